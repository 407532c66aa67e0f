"""Python interception (§6): proxies that record real python traffic or replay it from a mock file.

    api         interceptPython / setUpPython / process_startup / write_sitecustomize (entry points)
    settings    rc keys resolved once at install time
    importhook  whole-module interception (meta-path finder), late interception, undo
    patching    partial interception of dotted names, incl. bound methods and builtin types
    session     per-operation decisions (bypass, record, replay) for reads, writes, calls, imports
    replayer    answers from the replay index, safe value parsing, replayed classes and instances
    callbacks   intercepted code calling back into the application (--->PYT / <---RET)
    objects     identity map, generated classes, names and the rendering hook
    proxies     the proxy objects and generated-class machinery
    naming      instance/callback names and class descriptions, exactly as the original writes them
    callstack   which callers are not intercepted (stdlib, ignore_callers), cached per code object
"""
