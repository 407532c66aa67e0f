/* The replay index's usual lookup in one C call (issue #16): the key-table probe, the compare of the
 * key in place in the mock text and the read of a one-line response group, which in Python take five
 * frames and several offset-parsing str calls per replayed request.
 *
 * Optional: built where a compiler exists (setup.py, optional=True); capturemock/replay.py is the
 * reference and the fallback. Every case this file does not settle for sure (a miss, a key written
 * escaped, a group of several lines or items, a later group of a repeated request, anything out of
 * bounds) is handed whole to the Python lookup before anything was changed, so both give the same
 * answers by construction. The mock text is only read here, never evaluated.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <string.h>

/* numbers per occurrence in ReplayIndex._spans (replay.py): request start, body, group end, line */
enum { SPAN = 4, BODY = 1, END = 2, LINE = 3 };
enum { EMPTY_SLOT = -1, ABSENT = -1, UNSURE = -2 };

typedef struct {
    PyObject_HEAD
    PyObject *text;           /* the mock file's text (str) */
    Py_buffer slots;          /* KeyTable._slots: array('i') of key ids, EMPTY_SLOT where free */
    Py_buffer hashes;         /* KeyTable._hashes: array('q'), each key's hash by key id */
    Py_buffer first;          /* ReplayIndex._first_occurrence: array('i') by key id */
    Py_buffer spans;          /* ReplayIndex._spans: array('i') or array('q'), SPAN numbers per occurrence */
    Py_buffer uses;           /* ReplayIndex._uses: array('i') by key id, written here */
    Py_buffer counts;         /* ReplayIndex._occurrence_count: array('i') by key id */
    Py_buffer levels;         /* ReplayIndex._key_level: array('b') by key id */
    int buffers;              /* how many of the buffers above are held (released in that order's reverse) */
    PyObject *kinds;          /* ReplayIndex._kinds: item head -> (prefix, type, level, is_request) */
    PyTypeObject *item_type;  /* mockfile.Item, a tuple subclass */
    PyObject *lookup_fallback;
    PyObject *exact_fallback;
    PyObject *last_head;      /* the head seen last and its kind: nearly every answer has the same head */
    PyObject *last_kind;
} Lookup;

/* -- reading the text ------------------------------------------------------------------------------ */

static Py_ssize_t
find_char(int kind, const void *data, Py_ssize_t start, Py_ssize_t end, Py_UCS4 ch)
{
    if (kind == PyUnicode_1BYTE_KIND) {
        const char *found = start < end ? memchr((const char *)data + start, (int)ch, (size_t)(end - start)) : NULL;
        return found ? found - (const char *)data : -1;
    }
    for (Py_ssize_t at = start; at < end; at++) {
        if (PyUnicode_READ(kind, data, at) == ch)
            return at;
    }
    return -1;
}

static Py_ssize_t
count_newlines(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t count = 0;
    for (Py_ssize_t at = find_char(kind, data, start, end, '\n'); at >= 0; at = find_char(kind, data, at + 1, end, '\n'))
        count++;
    return count;
}

/* Whether text[at:at + len(s)] is s (the caller checked that it lies within the text). */
static int
text_has_at(PyObject *text, Py_ssize_t at, PyObject *s)
{
    int text_kind = PyUnicode_KIND(text), kind = PyUnicode_KIND(s);
    const void *text_data = PyUnicode_DATA(text), *data = PyUnicode_DATA(s);
    Py_ssize_t length = PyUnicode_GET_LENGTH(s);
    if (kind == text_kind)
        return memcmp((const char *)text_data + at * kind, data, (size_t)(length * kind)) == 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (PyUnicode_READ(text_kind, text_data, at + i) != PyUnicode_READ(kind, data, i))
            return 0;
    }
    return 1;
}

/* -- the arrays ------------------------------------------------------------------------------------ */

static long long
read_number(const Py_buffer *view, Py_ssize_t index)
{
    const char *at = (const char *)view->buf + index * view->itemsize;
    switch (view->itemsize) {
    case 1: return *(const signed char *)at;
    case 4: return *(const int *)at;
    default: return *(const long long *)at;
    }
}

static Py_ssize_t
items_in(const Py_buffer *view)
{
    return view->len / view->itemsize;
}

/* -- the lookup ------------------------------------------------------------------------------------ */

/* Python's KeyTable.find + ReplayIndex._is_key for a stripped key: its id, ABSENT, or UNSURE where a
 * matching hash is not confirmed in place (a key written escaped: Python compares the decoded text). */
static Py_ssize_t
find_key(Lookup *self, PyObject *key)
{
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1)
        return UNSURE;  /* a str's hash never fails; the fallback will report it if it does */
    Py_ssize_t slot_count = items_in(&self->slots), key_count = items_in(&self->hashes);
    Py_ssize_t text_length = PyUnicode_GET_LENGTH(self->text), key_length = PyUnicode_GET_LENGTH(key);
    Py_ssize_t occurrence_count = items_in(&self->spans) / SPAN;
    size_t mask = (size_t)slot_count - 1, slot = (size_t)hash & mask;
    const int *slots = (const int *)self->slots.buf;
    const long long *hashes = (const long long *)self->hashes.buf;
    for (Py_ssize_t probes = 0; probes < slot_count; probes++, slot = (slot + 1) & mask) {
        Py_ssize_t key_id = slots[slot];
        if (key_id == EMPTY_SLOT)
            return ABSENT;
        if (key_id < 0 || key_id >= key_count || key_id >= items_in(&self->first))
            return UNSURE;
        if (hashes[key_id] != (long long)hash)
            continue;
        long long occurrence = read_number(&self->first, key_id);
        if (occurrence < 0 || occurrence >= occurrence_count)
            return UNSURE;
        long long begin = read_number(&self->spans, SPAN * occurrence);
        long long body = read_number(&self->spans, SPAN * occurrence + BODY);
        long long key_end = begin + key_length;
        if (begin < 0 || body > text_length || key_end > body || !text_has_at(self->text, begin, key))
            return UNSURE;
        int kind = PyUnicode_KIND(self->text);
        const void *data = PyUnicode_DATA(self->text);
        for (long long at = key_end; at < body; at++) {  /* what follows the key up to the body: whitespace */
            if (!Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, at)))
                return UNSURE;
        }
        return key_id;
    }
    return UNSURE;  /* a full table: cannot happen, as the table grows at 2/3 */
}

/* ReplayIndex._kinds[text[begin:body]], remembered for the next call with the same head. Borrowed. */
static PyObject *
kind_of_head(Lookup *self, Py_ssize_t begin, Py_ssize_t body)
{
    if (self->last_head != NULL && PyUnicode_GET_LENGTH(self->last_head) == body - begin
            && text_has_at(self->text, begin, self->last_head))
        return self->last_kind;
    PyObject *head = PyUnicode_Substring(self->text, begin, body);
    if (head == NULL)
        return NULL;
    PyObject *kind = PyDict_GetItemWithError(self->kinds, head);
    if (kind == NULL) {
        Py_DECREF(head);
        return NULL;
    }
    Py_INCREF(kind);
    Py_XSETREF(self->last_head, head);
    Py_XSETREF(self->last_kind, kind);
    return kind;
}

/* Item(prefix, type, text, line) as replay.py's ``tuple.__new__(Item, ...)`` makes it: no Python frame. */
static PyObject *
new_item(PyTypeObject *item_type, PyObject *prefix, PyObject *type, PyObject *text, PyObject *line)
{
#if PY_VERSION_HEX >= 0x030E0000
    /* 3.14 caches a tuple's hash in the object: let tuple's own constructor set that up */
    PyObject *fields = PyTuple_Pack(4, prefix, type, text, line);
    PyObject *args = fields == NULL ? NULL : PyTuple_Pack(1, fields);
    PyObject *item = args == NULL ? NULL : PyTuple_Type.tp_new(item_type, args, NULL);
    Py_XDECREF(fields);
    Py_XDECREF(args);
    return item;
#else
    PyObject *item = item_type->tp_alloc(item_type, 4);
    if (item == NULL)
        return NULL;
    PyObject *fields[] = {prefix, type, text, line};
    for (Py_ssize_t i = 0; i < 4; i++) {
        Py_INCREF(fields[i]);
        PyTuple_SET_ITEM(item, i, fields[i]);
    }
    return item;
#endif
}

/* ReplayIndex._next_group when it is the first group and that is one response on one line (or none):
 * a new list, or NULL without an error for the Python path (nothing was changed then). */
static PyObject *
first_group(Lookup *self, Py_ssize_t key_id)
{
    if (key_id >= items_in(&self->uses) || key_id >= items_in(&self->counts) || key_id >= items_in(&self->levels))
        return NULL;
    int *uses = (int *)self->uses.buf;
    long long count = read_number(&self->counts, key_id);
    if ((uses[key_id] > 0 && uses[key_id] < count) || uses[key_id] == INT_MAX)
        return NULL;  /* a later group of a repeated request: found by following the occurrences */
    long long occurrence = read_number(&self->first, key_id), level = read_number(&self->levels, key_id);
    Py_ssize_t text_length = PyUnicode_GET_LENGTH(self->text);
    long long start = read_number(&self->spans, SPAN * occurrence);
    long long begin = read_number(&self->spans, SPAN * occurrence + BODY);
    long long end = read_number(&self->spans, SPAN * occurrence + END);
    long long line = read_number(&self->spans, SPAN * occurrence + LINE);
    if (start < 0 || start > begin || end > text_length)
        return NULL;
    if (begin >= end) {  /* recorded with no response at all */
        uses[key_id]++;
        return PyList_New(0);
    }
    int kind = PyUnicode_KIND(self->text);
    const void *data = PyUnicode_DATA(self->text);
    if (find_char(kind, data, begin, end - 1, '\n') >= 0)
        return NULL;  /* several lines: maybe several items, callbacks, an escaped value */
    Py_ssize_t colon = find_char(kind, data, begin, end, ':');
    if (colon < 0)
        return NULL;
    PyObject *item_kind = kind_of_head(self, begin, colon + 1);
    if (item_kind == NULL) {
        PyErr_Clear();  /* Python's lookup tells what is wrong, as it does without us */
        return NULL;
    }
    int overflow = 0;
    if (!PyTuple_CheckExact(item_kind) || PyTuple_GET_SIZE(item_kind) != 4
            || PyTuple_GET_ITEM(item_kind, 3) != Py_False || !PyLong_CheckExact(PyTuple_GET_ITEM(item_kind, 2))
            || PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(item_kind, 2), &overflow) != level || overflow)
        return NULL;  /* a request, or an item of another level: Python's item scan decides */
    Py_ssize_t value_end = PyUnicode_READ(kind, data, end - 1) == '\n' ? end - 1 : end;
    PyObject *value = PyUnicode_Substring(self->text, colon + 1, value_end);
    PyObject *line_number = PyLong_FromLongLong(line + count_newlines(kind, data, start, begin));
    PyObject *item = NULL, *group = NULL;
    if (value != NULL && line_number != NULL)
        item = new_item(self->item_type, PyTuple_GET_ITEM(item_kind, 0), PyTuple_GET_ITEM(item_kind, 1), value,
                        line_number);
    Py_XDECREF(value);
    Py_XDECREF(line_number);
    if (item == NULL || (group = PyList_New(1)) == NULL) {
        Py_XDECREF(item);
        return NULL;  /* out of memory: the error stays set */
    }
    PyList_SET_ITEM(group, 0, item);
    uses[key_id]++;
    return group;
}

/* ReplayIndex.lookup / lookup_exact: answered here when sure, else by ``fallback`` (the Python one). */
static PyObject *
lookup_or(Lookup *self, PyObject *description, PyObject *fallback)
{
    if (self->buffers == 0 || !PyUnicode_CheckExact(description))
        return PyObject_CallOneArg(fallback, description);
    Py_ssize_t length = PyUnicode_GET_LENGTH(description);
    int kind = PyUnicode_KIND(description);
    const void *data = PyUnicode_DATA(description);
    /* the key is the stripped description: as it is when nothing needs stripping (the usual) */
    if (length == 0 || Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, 0))
            || Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, length - 1)))
        return PyObject_CallOneArg(fallback, description);
    Py_ssize_t key_id = find_key(self, description);
    if (key_id < 0)
        return PyObject_CallOneArg(fallback, description);
    PyObject *group = first_group(self, key_id);
    if (group == NULL && !PyErr_Occurred())
        return PyObject_CallOneArg(fallback, description);
    return group;
}

static PyObject *
Lookup_lookup(Lookup *self, PyObject *description)
{
    return lookup_or(self, description, self->lookup_fallback);
}

static PyObject *
Lookup_lookup_exact(Lookup *self, PyObject *description)
{
    return lookup_or(self, description, self->exact_fallback);
}

/* -- the type -------------------------------------------------------------------------------------- */

static void
release_buffers(Lookup *self)
{
    Py_buffer *views[] = {&self->slots, &self->hashes, &self->first, &self->spans, &self->uses, &self->counts,
                          &self->levels};
    while (self->buffers > 0)
        PyBuffer_Release(views[--self->buffers]);
}

/* Hold an array's buffer for the index's lifetime: the arrays are complete once the index is built,
 * and an array exporting a buffer refuses to be resized (BufferError) rather than move under us. */
static int
hold(Lookup *self, Py_buffer *view, PyObject *array, const char *typecodes, const char *name)
{
    if (PyObject_GetBuffer(array, view, PyBUF_WRITABLE | PyBUF_FORMAT) < 0)
        return -1;
    self->buffers++;
    if (view->format == NULL || strlen(view->format) != 1 || strchr(typecodes, view->format[0]) == NULL
            || view->ndim != 1 || view->itemsize == 0) {
        PyErr_Format(PyExc_TypeError, "%s: expected an array of typecode %s", name, typecodes);
        return -1;
    }
    return 0;
}

static int
Lookup_init(Lookup *self, PyObject *args, PyObject *kwargs)
{
    PyObject *text, *slots, *hashes, *first, *spans, *uses, *counts, *levels, *kinds, *item_type, *lookup, *exact;
    if (self->buffers != 0 || self->text != NULL) {
        PyErr_SetString(PyExc_TypeError, "Lookup is initialised once");
        return -1;
    }
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "Lookup takes no keyword arguments");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "UOOOOOOOO!O!OO:Lookup", &text, &slots, &hashes, &first, &spans, &uses, &counts,
                          &levels, &PyDict_Type, &kinds, &PyType_Type, &item_type, &lookup, &exact))
        return -1;
    if (!PyType_IsSubtype((PyTypeObject *)item_type, &PyTuple_Type)
            || ((PyTypeObject *)item_type)->tp_itemsize != PyTuple_Type.tp_itemsize) {
        PyErr_SetString(PyExc_TypeError, "item_type: expected a tuple subclass without instance fields");
        return -1;
    }
    if (hold(self, &self->slots, slots, "i", "slots") < 0 || hold(self, &self->hashes, hashes, "q", "hashes") < 0
            || hold(self, &self->first, first, "i", "first") < 0 || hold(self, &self->spans, spans, "iq", "spans") < 0
            || hold(self, &self->uses, uses, "i", "uses") < 0 || hold(self, &self->counts, counts, "i", "counts") < 0
            || hold(self, &self->levels, levels, "b", "levels") < 0) {
        release_buffers(self);
        return -1;
    }
    Py_ssize_t slot_count = items_in(&self->slots);
    if (slot_count == 0 || (slot_count & (slot_count - 1)) != 0 || self->slots.itemsize != sizeof(int)
            || self->hashes.itemsize != sizeof(long long) || self->uses.itemsize != sizeof(int)) {
        release_buffers(self);
        PyErr_SetString(PyExc_TypeError, "slots: expected a power of two of C ints, hashes of long longs");
        return -1;
    }
    Py_INCREF(text);
    self->text = text;
    Py_INCREF(kinds);
    self->kinds = kinds;
    Py_INCREF(item_type);
    self->item_type = (PyTypeObject *)item_type;
    Py_INCREF(lookup);
    self->lookup_fallback = lookup;
    Py_INCREF(exact);
    self->exact_fallback = exact;
    return 0;
}

static int
Lookup_traverse(Lookup *self, visitproc visit, void *arg)
{
    Py_VISIT(self->text);
    Py_VISIT(self->kinds);
    Py_VISIT(self->item_type);
    Py_VISIT(self->lookup_fallback);
    Py_VISIT(self->exact_fallback);
    Py_VISIT(self->last_head);
    Py_VISIT(self->last_kind);
    return 0;
}

static int
Lookup_clear(Lookup *self)
{
    release_buffers(self);
    Py_CLEAR(self->text);
    Py_CLEAR(self->kinds);
    Py_CLEAR(self->item_type);
    Py_CLEAR(self->lookup_fallback);
    Py_CLEAR(self->exact_fallback);
    Py_CLEAR(self->last_head);
    Py_CLEAR(self->last_kind);
    return 0;
}

static void
Lookup_dealloc(Lookup *self)
{
    PyObject_GC_UnTrack(self);
    Lookup_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Lookup_methods[] = {
    {"lookup", (PyCFunction)Lookup_lookup, METH_O, "ReplayIndex.lookup: the next response group, or None."},
    {"lookup_exact", (PyCFunction)Lookup_lookup_exact, METH_O,
     "ReplayIndex.lookup_exact: the next response group of this very key, or None."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject LookupType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "capturemock._speedups.Lookup",
    .tp_doc = "Lookup(text, slots, hashes, first, spans, uses, counts, levels, kinds, item_type, lookup, exact):\n"
              "a ReplayIndex's lookups, answered in C when sure, else by the Python ``lookup``/``exact``.",
    .tp_basicsize = sizeof(Lookup),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Lookup_init,
    .tp_dealloc = (destructor)Lookup_dealloc,
    .tp_traverse = (traverseproc)Lookup_traverse,
    .tp_clear = (inquiry)Lookup_clear,
    .tp_methods = Lookup_methods,
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "capturemock._speedups",
    .m_doc = "The optional C accelerator of the replay index's exact hits (capturemock/replay.py is the reference).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&LookupType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL)
        return NULL;
    Py_INCREF(&LookupType);
    if (PyModule_AddObject(module, "Lookup", (PyObject *)&LookupType) < 0) {
        Py_DECREF(&LookupType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
