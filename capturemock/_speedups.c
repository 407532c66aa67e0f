/* The replay index's usual lookup in one C call (issue #16): the key-table probe, the compare of the
 * key in place in the mock text and the read of a one-line response group, which in Python take five
 * frames and several offset-parsing str calls per replayed request.
 *
 * Optional: built where a compiler exists (setup.py, optional=True); capturemock/replay.py is the
 * reference and the fallback. Every case this file does not settle for sure (a miss, a key written
 * escaped, a group of several lines or items, a later group of a repeated request, anything out of
 * bounds) is handed whole to the Python lookup before anything was changed, so both give the same
 * answers by construction. The mock text is only read here, never evaluated.
 *
 * read_plain reads a replayed value that is a plain literal (a small dict, a list, a string...), which in
 * Python takes literals.py's character scanner ~100k instructions for a three-key dict: it accepts only
 * forms it reads to the very value literals.py gives, and hands everything else back (NotImplemented).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>  /* PyFrame_Check, PyFrame_GetBack: in Python.h itself only from 3.11 */
#include <limits.h>
#include <string.h>
#include <errno.h>
#include <stddef.h>
#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>  /* PyMemberDef, a Handle slot's offset: in Python.h from 3.12, which deprecates this */
#endif
#include <unistd.h>

#ifndef Py_ALWAYS_INLINE  /* Python.h defines it from 3.11; the same for 3.9 and 3.10 */
#  if defined(__GNUC__) || defined(__clang__)
#    define Py_ALWAYS_INLINE __attribute__((always_inline))
#  else
#    define Py_ALWAYS_INLINE
#  endif
#endif

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

/* Where the first group of a key is one response on one line (the usual group), as first_group and
 * Lookup.answer read it: the response's item head is text[begin:colon + 1], its value text[colon + 1:value_end]. */
typedef struct {
    long long start, begin, end, line;  /* the request's start, the group's body and end, the request's line */
    Py_ssize_t colon, value_end;
    PyObject *kind;                     /* ReplayIndex._kinds of the head: (prefix, type, level, is_request), borrowed */
} Response;

enum { PYTHON_DECIDES = 0, ONE_LINE = 1, NO_RESPONSE = 2, ONE_ITEM_OF_LINES = 3 };
static int plain_continuation(int kind, const void *data, Py_ssize_t from, Py_ssize_t end);  /* session 9 block */

/* Which first group ``key_id`` answers with next: ONE_LINE (``found`` filled), ONE_ITEM_OF_LINES (one
 * response whose value runs on over plain continuation lines, ``found`` filled: an HTTP response and its
 * headers), NO_RESPONSE (recorded with no response at all), or PYTHON_DECIDES (a later group, several items,
 * another level...). Nothing is changed. */
static int
first_response(Lookup *self, Py_ssize_t key_id, Response *found)
{
    if (key_id >= items_in(&self->uses) || key_id >= items_in(&self->counts) || key_id >= items_in(&self->levels))
        return PYTHON_DECIDES;
    const int *uses = (const int *)self->uses.buf;
    /* the count is read only for a key used before: a first use (most, in a long replay) touches one cache
     * line less, which counts when lookups jump around a large file */
    if (uses[key_id] == INT_MAX || (uses[key_id] > 0 && uses[key_id] < read_number(&self->counts, key_id)))
        return PYTHON_DECIDES;  /* a later group of a repeated request: found by following the occurrences */
    long long occurrence = read_number(&self->first, key_id), level = read_number(&self->levels, key_id);
    Py_ssize_t text_length = PyUnicode_GET_LENGTH(self->text);
    found->start = read_number(&self->spans, SPAN * occurrence);
    found->begin = read_number(&self->spans, SPAN * occurrence + BODY);
    found->end = read_number(&self->spans, SPAN * occurrence + END);
    found->line = read_number(&self->spans, SPAN * occurrence + LINE);
    if (found->start < 0 || found->start > found->begin || found->end > text_length)
        return PYTHON_DECIDES;
    if (found->begin >= found->end)
        return NO_RESPONSE;
    int kind = PyUnicode_KIND(self->text);
    const void *data = PyUnicode_DATA(self->text);
    Py_ssize_t newline = find_char(kind, data, found->begin, found->end - 1, '\n');
    if (newline >= 0 && !plain_continuation(kind, data, newline, found->end))
        return PYTHON_DECIDES;  /* maybe several items, callbacks, an escaped value */
    found->colon = find_char(kind, data, found->begin, found->end, ':');
    if (found->colon < 0)
        return PYTHON_DECIDES;
    found->kind = kind_of_head(self, found->begin, found->colon + 1);
    if (found->kind == NULL) {
        PyErr_Clear();  /* Python's lookup tells what is wrong, as it does without us */
        return PYTHON_DECIDES;
    }
    int overflow = 0;
    PyObject *item_kind = found->kind;
    if (!PyTuple_CheckExact(item_kind) || PyTuple_GET_SIZE(item_kind) != 4
            || PyTuple_GET_ITEM(item_kind, 3) != Py_False || !PyLong_CheckExact(PyTuple_GET_ITEM(item_kind, 2))
            || PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(item_kind, 2), &overflow) != level || overflow)
        return PYTHON_DECIDES;  /* a request, or an item of another level: Python's item scan decides */
    found->value_end = PyUnicode_READ(kind, data, found->end - 1) == '\n' ? found->end - 1 : found->end;
    return newline >= 0 ? ONE_ITEM_OF_LINES : ONE_LINE;
}

/* ReplayIndex._next_group when it is the first group and that is one response on one line (or none):
 * a new list, or NULL without an error for the Python path (nothing was changed then). */
static PyObject *
first_group(Lookup *self, Py_ssize_t key_id)
{
    Response found;
    int shape = first_response(self, key_id, &found);
    int *uses = (int *)self->uses.buf;
    if (shape == PYTHON_DECIDES)
        return NULL;
    if (shape == NO_RESPONSE) {
        uses[key_id]++;
        return PyList_New(0);
    }
    PyObject *value = PyUnicode_Substring(self->text, found.colon + 1, found.value_end);
    PyObject *line_number = PyLong_FromLongLong(
        found.line + count_newlines(PyUnicode_KIND(self->text), PyUnicode_DATA(self->text), found.start, found.begin));
    PyObject *item = NULL, *group = NULL;
    if (value != NULL && line_number != NULL)
        item = new_item(self->item_type, PyTuple_GET_ITEM(found.kind, 0), PyTuple_GET_ITEM(found.kind, 1), value,
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

/* The key id of a description the C lookup may settle (a str with nothing to strip, found in place), else
 * -1: the Python lookup decides. */
static Py_ssize_t
usual_key_id(Lookup *self, PyObject *description)
{
    if (self->buffers == 0 || !PyUnicode_CheckExact(description))
        return -1;
    Py_ssize_t length = PyUnicode_GET_LENGTH(description);
    int kind = PyUnicode_KIND(description);
    const void *data = PyUnicode_DATA(description);
    /* the key is the stripped description: as it is when nothing needs stripping (the usual) */
    if (length == 0 || Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, 0))
            || Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, length - 1)))
        return -1;
    Py_ssize_t key_id = find_key(self, description);
    return key_id < 0 ? -1 : key_id;
}

/* The group of ``key_id`` (-1: not settled here) as ReplayIndex.lookup / lookup_exact give it: answered here
 * when sure, else by ``fallback`` (the Python one). */
static PyObject *
group_or(Lookup *self, Py_ssize_t key_id, PyObject *description, PyObject *fallback)
{
    PyObject *group = key_id < 0 ? NULL : first_group(self, key_id);
    if (group == NULL && !PyErr_Occurred())
        return PyObject_CallOneArg(fallback, description);
    return group;
}

static PyObject *
lookup_or(Lookup *self, PyObject *description, PyObject *fallback)
{
    return group_or(self, usual_key_id(self, description), description, fallback);
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

/* -- plain literals (literals.py's reader, for its common forms) ------------------------------------- */

/* read_plain(text): the value of a stripped mock text that is a plain literal (dict, list, tuple, set, str,
 * bytes, int, float, None, True, False), else NotImplemented and literals.py's reader decides. It accepts a
 * subset of what that reader accepts, to the same value: anything rarer (implicit string joins, hex or long
 * ints, long number tokens, non-ASCII outside strings, Instance/Callback, deep nesting) is given up, never
 * guessed. Work is linear in the text and the depth bounded. Giving up is NULL without an error; NULL with
 * an error is a real one (out of memory). */

enum { PLAIN_MAX_DEPTH = 100, PLAIN_MAX_INT_DIGITS = 18, PLAIN_MAX_NUMBER = 64 };

typedef struct {
    PyObject *text;
    int kind;
    const void *data;
    Py_ssize_t pos, end;
} Plain;

static PyObject *plain_value(Plain *p, int depth);

static Py_UCS4
plain_at(const Plain *p, Py_ssize_t at)
{
    return at < p->end ? PyUnicode_READ(p->kind, p->data, at) : 0;
}

/* literals._Reader.skip: the next character after blanks (0 at the end); line breaks only inside brackets */
static Py_UCS4
plain_skip(Plain *p, int depth)
{
    while (p->pos < p->end) {
        Py_UCS4 ch = PyUnicode_READ(p->kind, p->data, p->pos);
        if (ch == ' ' || ch == '\t' || (depth && (ch == '\n' || ch == '\r')))
            p->pos++;
        else
            return ch;
    }
    return 0;
}

static int
is_word_char(Py_UCS4 ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

static int
is_quote(Py_UCS4 ch)
{
    return ch == '\'' || ch == '"';
}

static int
hex_value(Py_UCS4 ch)
{
    if (ch >= '0' && ch <= '9')
        return (int)(ch - '0');
    if (ch >= 'a' && ch <= 'f')
        return (int)(ch - 'a' + 10);
    if (ch >= 'A' && ch <= 'F')
        return (int)(ch - 'A' + 10);
    return -1;
}

/* The escape after the backslash at ``at`` (literals._Reader.escape): its character, or -1 to give up;
 * ``*next`` is where the text goes on. */
static long
plain_escape(const Plain *p, Py_ssize_t at, int is_bytes, Py_ssize_t *next)
{
    Py_UCS4 code = plain_at(p, at + 1);
    *next = at + 2;
    switch (code) {
    case '\\': case '\'': case '"': return (long)code;
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    }
    int width = code == 'x' ? 2 : code == 'u' ? 4 : code == 'U' ? 8 : 0;
    if (width == 0 || (is_bytes && code != 'x'))
        return -1;
    long value = 0;
    for (int i = 0; i < width; i++) {
        int hex_digit = hex_value(plain_at(p, at + 2 + i));
        if (hex_digit < 0)
            return -1;
        value = value * 16 + hex_digit;
        if (value > 0x10FFFF)
            return -1;
    }
    *next = at + 2 + width;
    return value;
}

/* One quoted literal at pos (after its b prefix), not joined to a next one. */
static PyObject *
plain_string(Plain *p, int depth, int is_bytes)
{
    Py_UCS4 quote = plain_at(p, p->pos);
    if (plain_at(p, p->pos + 1) == quote && plain_at(p, p->pos + 2) == quote)
        return NULL;  /* triple-quoted */
    Py_ssize_t start = p->pos + 1, close = -1;
    int escaped = 0;
    for (Py_ssize_t at = start; at < p->end; at++) {
        Py_UCS4 ch = PyUnicode_READ(p->kind, p->data, at);
        if (ch == quote) {
            close = at;
            break;
        }
        if (ch == '\n' || ch == '\r' || (is_bytes && ch > 127))
            return NULL;  /* a line break in a one-line literal; bytes are ASCII */
        if (ch == '\\') {
            escaped = 1;
            at++;
        }
    }
    if (close < 0)
        return NULL;
    p->pos = close + 1;
    Py_UCS4 after = plain_skip(p, depth);
    if (is_quote(after) || (after == 'b' && is_quote(plain_at(p, p->pos + 1))))
        return NULL;  /* literals joined: literals.py joins them */
    if (!escaped && !is_bytes)
        return PyUnicode_Substring(p->text, start, close);
    Py_UCS4 *chars = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(close - start + 1));
    if (chars == NULL)
        return PyErr_NoMemory();
    Py_ssize_t length = 0;
    for (Py_ssize_t at = start; at < close;) {
        Py_UCS4 ch = PyUnicode_READ(p->kind, p->data, at);
        if (ch != '\\') {
            chars[length++] = ch;
            at++;
            continue;
        }
        long decoded = plain_escape(p, at, is_bytes, &at);
        if (decoded < 0 || at > close) {
            PyMem_Free(chars);
            return NULL;
        }
        chars[length++] = (Py_UCS4)decoded;
    }
    PyObject *value;
    if (is_bytes) {
        value = PyBytes_FromStringAndSize(NULL, length);
        if (value != NULL) {
            char *bytes = PyBytes_AS_STRING(value);
            for (Py_ssize_t i = 0; i < length; i++)
                bytes[i] = (char)chars[i];  /* every one below 256: ASCII or \xhh */
        }
    } else {
        value = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, chars, length);
    }
    PyMem_Free(chars);
    return value;
}

/* A number token as literals._Reader.unsigned reads it: decimal ints of a few digits and plain floats. */
static PyObject *
plain_unsigned(Plain *p)
{
    char token[PLAIN_MAX_NUMBER + 1];
    Py_ssize_t length = 0;
    for (;;) {
        Py_UCS4 ch = plain_at(p, p->pos);
        int sign_of_exponent = (ch == '-' || ch == '+') && length > 0
                               && (token[length - 1] == 'e' || token[length - 1] == 'E');
        if (!(is_word_char(ch) || ch == '.' || sign_of_exponent))
            break;
        if (length == PLAIN_MAX_NUMBER)
            return NULL;
        token[length++] = (char)ch;
        p->pos++;
    }
    token[length] = '\0';
    if (plain_at(p, p->pos) > 127)
        return NULL;  /* a non-ASCII letter or digit would be part of the token */
    Py_ssize_t digits = 0, dots = 0, exponent_at = -1;
    for (Py_ssize_t i = 0; i < length; i++) {
        char ch = token[i];
        if (ch >= '0' && ch <= '9')
            digits++;
        else if (ch == '.' && exponent_at < 0)
            dots++;
        else if ((ch == 'e' || ch == 'E') && exponent_at < 0)
            exponent_at = i;
        else if (!((ch == '-' || ch == '+') && i == exponent_at + 1 && exponent_at >= 0))
            return NULL;  /* hex, _, j, a second e or sign: literals.py decides */
    }
    if (dots == 0 && exponent_at < 0) {  /* an int */
        if (length == 0 || length > PLAIN_MAX_INT_DIGITS || (token[0] == '0' && length > 1))
            return NULL;
        return PyLong_FromLongLong(strtoll(token, NULL, 10));
    }
    Py_ssize_t mantissa_end = exponent_at < 0 ? length : exponent_at;
    if (dots > 1 || mantissa_end - dots == 0)
        return NULL;  /* no digit before the exponent */
    if (exponent_at >= 0) {
        Py_ssize_t first = exponent_at + 1 + (token[exponent_at + 1] == '-' || token[exponent_at + 1] == '+');
        if (first >= length)
            return NULL;  /* no digit after it */
    }
    double value = PyOS_string_to_double(token, NULL, NULL);
    if (value == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return NULL;
    }
    return PyFloat_FromDouble(value);
}

/* literals._Reader.number: at most one sign, blanks allowed after it. */
static PyObject *
plain_number(Plain *p, int depth)
{
    Py_UCS4 sign = plain_at(p, p->pos);
    if (sign != '-' && sign != '+')
        return plain_unsigned(p);
    p->pos++;
    Py_UCS4 next = plain_skip(p, depth);
    if (!((next >= '0' && next <= '9') || next == '.'))
        return NULL;
    PyObject *value = plain_unsigned(p);
    if (value == NULL || sign == '+')
        return value;
    PyObject *negated = PyNumber_Negative(value);
    Py_DECREF(value);
    return negated;
}

/* Appends ``value`` (stolen) to ``into`` and steps over the comma after it. Returns 0, or -1 to give up
 * (neither a comma nor ``close`` follows) or on an error. */
static int
plain_take_item(Plain *p, int depth, Py_UCS4 close, PyObject *into, PyObject *value)
{
    int failed = PyList_Append(into, value);
    Py_DECREF(value);
    if (failed)
        return -1;
    Py_UCS4 ch = plain_skip(p, depth);
    if (ch == ',')
        p->pos++;
    else if (ch != close)
        return -1;
    return 0;
}

/* Values up to ``close``, a trailing comma allowed, into ``into`` (a list); ``first`` was read already
 * when not NULL (stolen), else the opener is at pos. Returns 0, or -1 to give up or on an error. */
static int
plain_items(Plain *p, int depth, Py_UCS4 close, PyObject *into, PyObject *first)
{
    if (first == NULL)
        p->pos++;
    else if (plain_take_item(p, depth, close, into, first) < 0)
        return -1;
    for (;;) {
        if (plain_skip(p, depth) == close) {
            p->pos++;
            return 0;
        }
        PyObject *value = plain_value(p, depth);
        if (value == NULL || plain_take_item(p, depth, close, into, value) < 0)
            return -1;
    }
}

static PyObject *
plain_list(Plain *p, int depth, Py_UCS4 close, PyObject *first)
{
    PyObject *list = PyList_New(0);
    if (list == NULL) {
        Py_XDECREF(first);
        return NULL;
    }
    if (plain_items(p, depth, close, list, first) < 0) {
        Py_DECREF(list);
        return NULL;
    }
    return list;
}

/* ``(x)`` is x; ``()``, ``(x,)`` and ``(x, y)`` are tuples. */
static PyObject *
plain_parenthesised(Plain *p, int depth)
{
    p->pos++;
    if (plain_skip(p, depth) == ')') {
        p->pos++;
        return PyTuple_New(0);
    }
    PyObject *first = plain_value(p, depth);
    if (first == NULL)
        return NULL;
    Py_UCS4 ch = plain_skip(p, depth);
    if (ch == ')') {
        p->pos++;
        return first;
    }
    if (ch != ',') {
        Py_DECREF(first);
        return NULL;
    }
    PyObject *list = plain_list(p, depth, ')', first);
    if (list == NULL)
        return NULL;
    PyObject *tuple = PyList_AsTuple(list);
    Py_DECREF(list);
    return tuple;
}

/* An unhashable key or element (a list in a set): literals.py gives up there too. */
static int
plain_unhashable(void)
{
    if (!PyErr_ExceptionMatches(PyExc_TypeError))
        return 0;
    PyErr_Clear();
    return 1;
}

/* A dict (no key repeated: literals.py leaves that to ast) or a set. */
static PyObject *
plain_braces(Plain *p, int depth)
{
    p->pos++;
    if (plain_skip(p, depth) == '}') {
        p->pos++;
        return PyDict_New();
    }
    PyObject *key = plain_value(p, depth);
    if (key == NULL)
        return NULL;
    if (plain_skip(p, depth) != ':') {
        PyObject *elements = plain_list(p, depth, '}', key);
        if (elements == NULL)
            return NULL;
        PyObject *set = PySet_New(elements);
        Py_DECREF(elements);
        if (set == NULL)
            plain_unhashable();
        return set;
    }
    PyObject *dict = PyDict_New();
    Py_ssize_t pairs = 0;
    while (dict != NULL) {
        p->pos++;  /* the colon */
        PyObject *value = plain_value(p, depth);
        if (value == NULL)
            break;
        int failed = PyDict_SetItem(dict, key, value);
        Py_DECREF(value);
        Py_CLEAR(key);
        if (failed) {
            plain_unhashable();
            break;
        }
        pairs++;
        Py_UCS4 ch = plain_skip(p, depth);
        if (ch == ',') {
            p->pos++;
            ch = plain_skip(p, depth);
        } else if (ch != '}') {
            break;
        }
        if (ch == '}') {
            p->pos++;
            if (PyDict_GET_SIZE(dict) != pairs)
                break;  /* a key repeated */
            return dict;
        }
        key = plain_value(p, depth);
        if (key == NULL || plain_skip(p, depth) != ':')
            break;
    }
    Py_XDECREF(key);
    Py_XDECREF(dict);
    return NULL;
}

static PyObject *
plain_value(Plain *p, int depth)
{
    Py_UCS4 ch = plain_skip(p, depth);
    if (ch == '\'' || ch == '"')
        return plain_string(p, depth, 0);
    if (ch == '[' || ch == '(' || ch == '{') {
        if (depth + 1 > PLAIN_MAX_DEPTH || Py_EnterRecursiveCall(" reading a plain literal")) {
            PyErr_Clear();
            return NULL;
        }
        PyObject *value = ch == '[' ? plain_list(p, depth + 1, ']', NULL)
                          : ch == '(' ? plain_parenthesised(p, depth + 1) : plain_braces(p, depth + 1);
        Py_LeaveRecursiveCall();
        return value;
    }
    if ((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+')
        return plain_number(p, depth);
    Py_ssize_t start = p->pos;
    while (is_word_char(plain_at(p, p->pos)))
        p->pos++;
    Py_ssize_t length = p->pos - start;
    if (plain_at(p, p->pos) > 127)
        return NULL;  /* a non-ASCII letter would be part of the name */
    if (length == 1 && ch == 'b' && is_quote(plain_at(p, p->pos)))
        return plain_string(p, depth, 1);
    static const char *const names[] = {"None", "True", "False"};
    PyObject *const constants[] = {Py_None, Py_True, Py_False};
    for (int i = 0; i < 3; i++) {
        if (length == (Py_ssize_t)strlen(names[i])) {
            Py_ssize_t at = 0;
            while (at < length && plain_at(p, start + at) == (Py_UCS4)names[i][at])
                at++;
            if (at == length) {
                Py_INCREF(constants[i]);
                return constants[i];
            }
        }
    }
    return NULL;  /* Instance, Callback, raise, names: literals.py or ast */
}

static PyObject *
read_plain(PyObject *module, PyObject *text)
{
    (void)module;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "read_plain: expected a str");
        return NULL;
    }
    Plain p = {text, PyUnicode_KIND(text), PyUnicode_DATA(text), 0, PyUnicode_GET_LENGTH(text)};
    PyObject *value = plain_value(&p, 0);
    if (value != NULL && plain_skip(&p, 0) != 0)
        Py_CLEAR(value);  /* more text after the value */
    if (value == NULL && !PyErr_Occurred())
        Py_RETURN_NOTIMPLEMENTED;
    return value;
}

/* -- defined in their own blocks at the end of the file, before the module -------------------- */
static PyObject *index_items(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
static PyObject *find_word(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
static PyObject *caller_verdict(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
static PyObject *one_line_dict(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
static PyObject *decode_base64(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
static PyObject *count_lines(PyObject *module, PyObject *text);
static PyObject *ascii_bytes(PyObject *module, PyObject *text);
static PyObject *call_recorder(PyObject *module, PyObject *args);
static PyObject *request_callees(PyObject *module, PyObject *text);
static PyObject *flock_shared(PyObject *module, PyObject *fd);

static PyMethodDef module_methods[] = {
    {"read_plain", (PyCFunction)read_plain, METH_O,
     "read_plain(text): the value of a stripped plain literal, else NotImplemented (literals.py decides)."},
    {"index_items", (PyCFunction)(void (*)(void))index_items, METH_FASTCALL,
     "index_items(text, kinds, kind_of, slots, hashes, spans, next, levels, first, counts, calls):\n"
     "ReplayIndex._build_in_python's pass, into arrays sized by the caller; None where it gives up."},
    {"find_word", (PyCFunction)(void (*)(void))find_word, METH_FASTCALL,
     "find_word(text, word, start): where word next occurs from start, ending at a separator or the end; -1."},
    {"caller_verdict", (PyCFunction)(void (*)(void))caller_verdict, METH_FASTCALL,
     "caller_verdict(cache, own[, frame]): callstack.caller_verdict, in C."},
    {"one_line_dict", (PyCFunction)(void (*)(void))one_line_dict, METH_FASTCALL,
     "one_line_dict(mapping, full_floats): values._one_line_dict, in C."},
    {"decode_base64", (PyCFunction)(void (*)(void))decode_base64, METH_FASTCALL,
     "decode_base64(text, start, end): the base64 digits text[start:end] decoded, None if not base64 (httptext)."},
    {"count_lines", (PyCFunction)count_lines, METH_O,
     "count_lines(text): (text.count('\\n'), text.count('\\n<-')) in one pass."},
    {"ascii_bytes", (PyCFunction)ascii_bytes, METH_O,
     "ascii_bytes(text): an ASCII str's characters as a read-only memoryview (no copy), else None."},
    {"call_recorder", (PyCFunction)call_recorder, METH_VARARGS,
     "call_recorder(fallback, session, handle_type, missing, full_floats, cache, own): Session.call settling\n"
     "the session's part of the usual recorded call in C."},
    {"request_callees", (PyCFunction)request_callees, METH_O,
     "request_callees(text): naming.request_callees, in C."},
    {"flock_shared", (PyCFunction)flock_shared, METH_O,
     "flock_shared(fd): fcntl.flock(fd, fcntl.LOCK_SH), without loading fcntl (mockfile.MockWriter._open)."},
    {NULL, NULL, 0, NULL},
};

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
hold_array(Py_buffer *view, int *held, PyObject *array, const char *typecodes, const char *caller, const char *name)
{
    /* PyBUF_ND too: a memoryview (keytable.fixed_numbers) gives its format only with its shape */
    if (PyObject_GetBuffer(array, view, PyBUF_CONTIG | PyBUF_FORMAT) < 0)
        return -1;
    (*held)++;  /* released by the caller, whatever follows */
    if (view->format == NULL || strlen(view->format) != 1 || strchr(typecodes, view->format[0]) == NULL
            || view->ndim != 1 || view->itemsize == 0) {
        PyErr_Format(PyExc_TypeError, "%s%s: expected an array of typecode %s", caller, name, typecodes);
        return -1;
    }
    return 0;
}

static int
hold(Lookup *self, Py_buffer *view, PyObject *array, const char *typecodes, const char *name)
{
    return hold_array(view, &self->buffers, array, typecodes, "", name);
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

/* Every object a Lookup holds, listed once so that traverse and clear cannot drift apart. */
#define LOOKUP_OBJECTS(APPLY) \
    APPLY(text) APPLY(kinds) APPLY(item_type) APPLY(lookup_fallback) APPLY(exact_fallback) \
    APPLY(last_head) APPLY(last_kind)
#define LOOKUP_VISIT(field) Py_VISIT(self->field);
#define LOOKUP_CLEAR(field) Py_CLEAR(self->field);

static int
Lookup_traverse(Lookup *self, visitproc visit, void *arg)
{
    LOOKUP_OBJECTS(LOOKUP_VISIT)
    return 0;
}

static int
Lookup_clear(Lookup *self)
{
    release_buffers(self);
    LOOKUP_OBJECTS(LOOKUP_CLEAR)
    return 0;
}

static void
Lookup_dealloc(Lookup *self)
{
    PyObject_GC_UnTrack(self);
    Lookup_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Lookup_answer(Lookup *self, PyObject *description);  /* the session 7 block at the end */
static PyObject *Lookup_call_replayer(Lookup *self, PyObject *args);  /* the session 8 block at the end */

static PyMethodDef Lookup_methods[] = {
    {"lookup", (PyCFunction)Lookup_lookup, METH_O, "ReplayIndex.lookup: the next response group, or None."},
    {"lookup_exact", (PyCFunction)Lookup_lookup_exact, METH_O,
     "ReplayIndex.lookup_exact: the next response group of this very key, or None."},
    {"answer", (PyCFunction)Lookup_answer, METH_O,
     "lookup for a python call: (value, line) where the answer is one plain value on one top-level line."},
    {"call_replayer", (PyCFunction)Lookup_call_replayer, METH_VARARGS,
     "call_replayer(fallback, session, handle_type, missing, full_floats): Session.call settling the usual\n"
     "replayed call in C, every other call given to fallback."},
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

/* -- building the index (replay.py's ReplayIndex._build_in_python, for the usual file) ---------------- */

/* A replaying process's start-up indexes its whole mock: in Python that is ~30k instructions a request
 * (the line scan for item heads, the key table, the per-occurrence numbers), 16 M of a 10^3-item mock's
 * 95 M. index_items does the same pass in one C call, writing into arrays the caller made at their largest
 * (as many requests as lines starting '<-', the key slots never needing to grow) and cuts to size after.
 * It settles only the usual file: a request whose head does not start '<-' (its key could start with
 * whitespace), a request written escaped (its key is the decoded text) or anything out of room makes it
 * give up (None, no error) before the caller kept anything, and replay.py builds in Python from scratch. */

enum { INDEX_MAX_LEVEL = 16, HEAD_CACHE = 8, HEAD_MAX = 10 };
static const char INDEX_ESCAPE[] = "|capturemock|";  /* mockfile.ESCAPE */

typedef struct {
    PyObject *text;
    int kind;
    const void *data;
    Py_ssize_t length;
    PyObject *kinds, *kind_of;
    Py_buffer slots, hashes, spans, next, levels, first, counts, calls;
    int held;
    Py_ssize_t capacity, key_capacity;  /* requests and keys there is room for */
    Py_ssize_t occurrences, keys, call_count;
    Py_ssize_t *last_occurrence, *key_length;  /* by key id: to chain a key's occurrences; its length */
    Py_ssize_t open_at[INDEX_MAX_LEVEL];  /* level -> occurrence whose group is open, or -1 */
    PyObject *recurrences;  /* [(key id, calls so far)] for each recurrence of an attribute key */
    PyObject *head_text[HEAD_CACHE], *head_kind[HEAD_CACHE];  /* heads met so far and their kinds */
    int heads;
} Indexer;

static void
write_number(Py_buffer *view, Py_ssize_t index, long long value)
{
    char *at = (char *)view->buf + index * view->itemsize;
    switch (view->itemsize) {
    case 1: *(signed char *)at = (signed char)value; break;
    case 4: *(int *)at = (int)value; break;
    default: *(long long *)at = value;
    }
}

/* The kind tuple (prefix, type, level, is_request) of the head text[begin:end], from the few heads met
 * already, else ``kinds`` (filled by ``kind_of`` for a new head, as the Python build does). Borrowed;
 * NULL with an error, or NULL without one for a kind that is not such a tuple (give up). */
static PyObject *
index_kind(Indexer *ix, Py_ssize_t begin, Py_ssize_t end)
{
    for (int i = 0; i < ix->heads; i++) {
        if (PyUnicode_GET_LENGTH(ix->head_text[i]) == end - begin && text_has_at(ix->text, begin, ix->head_text[i]))
            return ix->head_kind[i];
    }
    PyObject *head = PyUnicode_Substring(ix->text, begin, end);
    if (head == NULL)
        return NULL;
    PyObject *kind = PyDict_GetItemWithError(ix->kinds, head);
    if (kind != NULL) {
        Py_INCREF(kind);
    } else if (!PyErr_Occurred()) {
        kind = PyObject_CallOneArg(ix->kind_of, head);
        if (kind != NULL && PyDict_SetItem(ix->kinds, head, kind) < 0)
            Py_CLEAR(kind);
    }
    if (kind == NULL) {
        Py_DECREF(head);
        return NULL;
    }
    int usable = PyTuple_CheckExact(kind) && PyTuple_GET_SIZE(kind) == 4
                 && PyLong_CheckExact(PyTuple_GET_ITEM(kind, 2)) && PyBool_Check(PyTuple_GET_ITEM(kind, 3));
    if (!usable || ix->heads == HEAD_CACHE) {  /* a full cache: the head is found in kinds again next time */
        Py_DECREF(head);
        Py_DECREF(kind);  /* kinds holds it */
        return usable ? kind : NULL;
    }
    ix->head_text[ix->heads] = head;
    ix->head_kind[ix->heads++] = kind;
    return kind;
}

/* ReplayIndex._add_request: 1 done, 0 give up, -1 an error. */
static int
index_request(Indexer *ix, Py_ssize_t begin, long long line, int level, Py_ssize_t body)
{
    for (int open = level; open < INDEX_MAX_LEVEL; open++) {  /* close the groups it ends */
        if (ix->open_at[open] >= 0) {
            write_number(&ix->spans, SPAN * ix->open_at[open] + END, begin);
            ix->open_at[open] = -1;
        }
    }
    Py_ssize_t occurrence = ix->occurrences;
    if (occurrence >= ix->capacity)
        return 0;
    ix->open_at[level] = occurrence;
    write_number(&ix->spans, SPAN * occurrence, begin);
    write_number(&ix->spans, SPAN * occurrence + BODY, body);
    write_number(&ix->spans, SPAN * occurrence + END, ix->length);
    write_number(&ix->spans, SPAN * occurrence + LINE, line);
    write_number(&ix->next, occurrence, -1);
    ix->occurrences++;
    Py_ssize_t key_end = body, escape = (Py_ssize_t)strlen(INDEX_ESCAPE);
    while (key_end > begin && PyUnicode_READ(ix->kind, ix->data, key_end - 1) == '\n')
        key_end--;
    if (key_end - begin >= escape) {  /* escaped: the key is the decoded text */
        Py_ssize_t at = 0;
        while (at < escape && PyUnicode_READ(ix->kind, ix->data, key_end - escape + at) == (Py_UCS4)INDEX_ESCAPE[at])
            at++;
        if (at == escape)
            return 0;
    }
    while (key_end > begin && Py_UNICODE_ISSPACE(PyUnicode_READ(ix->kind, ix->data, key_end - 1)))
        key_end--;
    PyObject *key = PyUnicode_Substring(ix->text, begin, key_end);
    Py_hash_t hash = key == NULL ? -1 : PyObject_Hash(key);
    Py_XDECREF(key);
    if (hash == -1)
        return -1;
    Py_ssize_t length = key_end - begin;
    size_t mask = (size_t)items_in(&ix->slots) - 1, slot = (size_t)hash & mask;
    int *slots = (int *)ix->slots.buf;
    long long *hashes = (long long *)ix->hashes.buf;
    int is_call = find_char(ix->kind, ix->data, begin, key_end, '(') >= 0;
    for (Py_ssize_t key_id = slots[slot]; key_id != EMPTY_SLOT; slot = (slot + 1) & mask, key_id = slots[slot]) {
        if (key_id < 0 || key_id >= ix->keys)
            return 0;
        long long first = read_number(&ix->spans, SPAN * read_number(&ix->first, key_id));  /* where it starts */
        if (hashes[key_id] != (long long)hash || ix->key_length[key_id] != length
                || memcmp((const char *)ix->data + first * ix->kind, (const char *)ix->data + begin * ix->kind,
                          (size_t)(length * ix->kind)) != 0)
            continue;
        /* the key again: chain this occurrence to its last */
        write_number(&ix->next, ix->last_occurrence[key_id], occurrence);
        ix->last_occurrence[key_id] = occurrence;
        write_number(&ix->counts, key_id, read_number(&ix->counts, key_id) + 1);
        if (!is_call) {
            PyObject *recurrence = Py_BuildValue("(nn)", key_id, ix->call_count);
            int failed = recurrence == NULL || PyList_Append(ix->recurrences, recurrence) < 0;
            Py_XDECREF(recurrence);
            return failed ? -1 : 1;
        }
        return 1;
    }
    Py_ssize_t key_id = ix->keys;  /* a new key */
    if (key_id >= ix->key_capacity || 3 * (key_id + 1) > 2 * items_in(&ix->slots)
            || (is_call && ix->call_count >= items_in(&ix->calls)))
        return 0;
    slots[slot] = (int)key_id;
    hashes[key_id] = (long long)hash;
    write_number(&ix->levels, key_id, level);
    write_number(&ix->first, key_id, occurrence);
    write_number(&ix->counts, key_id, 1);
    ix->last_occurrence[key_id] = occurrence;
    ix->key_length[key_id] = length;
    ix->keys++;
    if (is_call)
        write_number(&ix->calls, ix->call_count++, key_id);
    return 1;
}

/* The pass over the lines: 1 done, 0 give up, -1 an error. */
static int
index_lines(Indexer *ix)
{
    int pending = 0, pending_level = 0;
    Py_ssize_t pending_begin = 0;
    long long pending_line = 0, line = 1;
    for (Py_ssize_t start = 0; start < ix->length; line++) {
        Py_ssize_t end = find_char(ix->kind, ix->data, start, ix->length, '\n');
        end = end < 0 ? ix->length : end;
        /* mockfile._item_heads_by_line: a first ':' within 10 characters, '<-' first or '->' 5 before it */
        Py_ssize_t colon = find_char(ix->kind, ix->data, start, Py_MIN(start + HEAD_MAX, end), ':');
        Py_ssize_t head_length = colon + 1 - start;
        if (colon >= 0 && ((head_length >= 3 && PyUnicode_READ(ix->kind, ix->data, start) == '<'
                            && PyUnicode_READ(ix->kind, ix->data, start + 1) == '-')
                           || (head_length >= 6 && PyUnicode_READ(ix->kind, ix->data, colon - 5) == '-'
                               && PyUnicode_READ(ix->kind, ix->data, colon - 4) == '>'))) {
            if (pending) {
                int done = index_request(ix, pending_begin, pending_line, pending_level, start);
                if (done <= 0)
                    return done;
                pending = 0;
            }
            PyObject *kind = index_kind(ix, start, colon + 1);
            if (kind == NULL)
                return PyErr_Occurred() ? -1 : 0;
            if (PyTuple_GET_ITEM(kind, 3) == Py_True) {
                int overflow = 0;
                long level = PyLong_AsLongAndOverflow(PyTuple_GET_ITEM(kind, 2), &overflow);
                if (overflow || level < 0 || level >= INDEX_MAX_LEVEL || PyUnicode_READ(ix->kind, ix->data, start) != '<'
                        || PyUnicode_READ(ix->kind, ix->data, start + 1) != '-')
                    return 0;
                pending = 1;
                pending_begin = start;
                pending_line = line;
                pending_level = (int)level;
            }
        }
        start = end + 1;
    }
    return pending ? index_request(ix, pending_begin, pending_line, pending_level, ix->length) : 1;
}


static PyObject *
index_items(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 11 || !PyUnicode_Check(args[0]) || !PyDict_CheckExact(args[1]) || !PyCallable_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "index_items(text: str, kinds: dict, kind_of: callable, slots, hashes, "
                                         "spans, next, levels, first, counts, calls): expected 11 arguments");
        return NULL;
    }
    Indexer ix = {.text = args[0], .kind = PyUnicode_KIND(args[0]), .data = PyUnicode_DATA(args[0]),
                  .length = PyUnicode_GET_LENGTH(args[0]), .kinds = args[1], .kind_of = args[2]};
    Py_buffer *views[] = {&ix.slots, &ix.hashes, &ix.spans, &ix.next, &ix.levels, &ix.first, &ix.counts, &ix.calls};
    const char *codes[] = {"i", "q", "iq", "i", "b", "i", "i", "i"};
    const char *names[] = {"slots", "hashes", "spans", "next", "levels", "first", "counts", "calls"};
    PyObject *result = NULL;
    int done = -1;
    for (int i = 0; i < 8; i++) {
        if (hold_array(views[i], &ix.held, args[3 + i], codes[i], "index_items: ", names[i]) < 0)
            goto finally;
    }
    Py_ssize_t slot_count = items_in(&ix.slots);
    if (slot_count == 0 || (slot_count & (slot_count - 1)) != 0 || ix.slots.itemsize != sizeof(int)
            || ix.hashes.itemsize != sizeof(long long)) {
        PyErr_SetString(PyExc_TypeError, "index_items: slots: expected a power of two of C ints, hashes of long longs");
        goto finally;
    }
    for (Py_ssize_t slot = 0; slot < slot_count; slot++) {
        if (((int *)ix.slots.buf)[slot] != EMPTY_SLOT) {
            PyErr_SetString(PyExc_ValueError, "index_items: expected empty slots");
            goto finally;
        }
    }
    ix.capacity = Py_MIN(items_in(&ix.next), items_in(&ix.spans) / SPAN);
    ix.key_capacity = Py_MIN(Py_MIN(items_in(&ix.hashes), items_in(&ix.levels)),
                             Py_MIN(items_in(&ix.first), items_in(&ix.counts)));
    for (int level = 0; level < INDEX_MAX_LEVEL; level++)
        ix.open_at[level] = -1;
    ix.last_occurrence = PyMem_New(Py_ssize_t, ix.key_capacity + 1);
    ix.key_length = PyMem_New(Py_ssize_t, ix.key_capacity + 1);
    ix.recurrences = PyList_New(0);
    if (ix.last_occurrence == NULL || ix.key_length == NULL) {
        PyErr_NoMemory();
        goto finally;
    }
    if (ix.recurrences == NULL)
        goto finally;
    done = index_lines(&ix);
    if (done > 0)
        result = Py_BuildValue("(nnnO)", ix.occurrences, ix.keys, ix.call_count, ix.recurrences);
    else if (done == 0) {
        Py_INCREF(Py_None);
        result = Py_None;
    }
finally:
    while (ix.held > 0)
        PyBuffer_Release(views[--ix.held]);
    for (int i = 0; i < ix.heads; i++) {
        Py_DECREF(ix.head_text[i]);
        Py_DECREF(ix.head_kind[i]);
    }
    PyMem_Free(ix.last_occurrence);
    PyMem_Free(ix.key_length);
    Py_XDECREF(ix.recurrences);
    return result;
}


/* -- finding a request word in the text (quickmatch.py) ----------------------------------------------
 *
 * QuickMatch._keys_holding searches the whole mock text for each request word of a best-match miss: in
 * Python, a regex with the word as its literal prefix, ~4 instructions a byte (12 M for 2 MB) when the
 * word's characters are common, as `-1`'s are. Here the word's first and last characters are compared
 * with 32 bytes of text a step (SSE2, on every x86_64) and only positions holding both are verified:
 * ~0.65 instructions a byte. Elsewhere a plain loop. Every str kind is searched in its own width. */

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <emmintrin.h>
#define WORD_SCAN_SSE2 1
#endif

/* bestmatch.SEPARATOR, `[/()\\\s]`, whose `\s` on a str is str.isspace: a word found must end at one */
static int
is_word_separator(Py_UCS4 ch)
{
    return ch == '/' || ch == '(' || ch == ')' || ch == '\\' || Py_UNICODE_ISSPACE(ch);
}

#ifdef WORD_SCAN_SSE2
static int
lowest_bit(unsigned mask)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctz(mask);
#else
    int bit = 0;
    while (!(mask & 1u)) {
        mask >>= 1;
        bit++;
    }
    return bit;
#endif
}

/* Where text[at + i] is the word's first character and text[at + i + size - 1] its last: bit
 * i * sizeof(CHAR) of the mask, for the 16 bytes from ``at`` (LANE_BITS keeps one bit a character). */
#define WORD_ENDS_MASK(CHAR, CMPEQ, LANE_BITS, at)                                                         \
    ((unsigned)_mm_movemask_epi8(_mm_and_si128(                                                            \
         CMPEQ(_mm_loadu_si128((const __m128i *)(text + (at))), firsts),                                   \
         CMPEQ(_mm_loadu_si128((const __m128i *)(text + (at) + size - 1)), lasts))) & (LANE_BITS))

/* 32 bytes a step (two blocks of 16), while the last one read, from at + size - 1, lies in the text */
#define WORD_SCAN_VECTOR(CHAR, SET1, CMPEQ, LANE_BITS)                                                      \
    const __m128i firsts = SET1(word[0]), lasts = SET1(word[size - 1]);                                    \
    const Py_ssize_t lanes = 16 / (Py_ssize_t)sizeof(CHAR);                                                \
    for (; at + size - 1 + 2 * lanes <= length; at += 2 * lanes) {                                         \
        unsigned mask = WORD_ENDS_MASK(CHAR, CMPEQ, LANE_BITS, at)                                         \
                        | WORD_ENDS_MASK(CHAR, CMPEQ, LANE_BITS, at + lanes) << 16;                        \
        for (; mask != 0; mask &= mask - 1) {                                                              \
            Py_ssize_t hit = at + lowest_bit(mask) / (int)sizeof(CHAR);                                    \
            if (WORD_AT(CHAR, hit))                                                                        \
                return hit;                                                                                \
        }                                                                                                  \
    }
#else
#define WORD_SCAN_VECTOR(CHAR, SET1, CMPEQ, LANE_BITS)
#endif

/* text[hit:hit + size] is the word (its first and last characters already compared) and ends a word */
#define WORD_AT(CHAR, hit)                                                                                 \
    (memcmp(text + (hit) + 1, word + 1, size > 2 ? (size_t)(size - 2) * sizeof(CHAR) : 0) == 0              \
     && ((hit) + size == length || is_word_separator(text[(hit) + size])))

/* The first position from ``at`` where ``word`` (size >= 1) ends at a separator or the text's end, or -1.
 * The vector loop reads 32 bytes from ``at`` and from ``at + size - 1`` only while both lie in the text;
 * the plain loop checks the rest. */
#define DEFINE_FIND_WORD(NAME, CHAR, SET1, CMPEQ, LANE_BITS)                                               \
    static Py_ssize_t                                                                                      \
    NAME(const CHAR *text, Py_ssize_t length, const CHAR *word, Py_ssize_t size, Py_ssize_t at)            \
    {                                                                                                      \
        WORD_SCAN_VECTOR(CHAR, SET1, CMPEQ, LANE_BITS)                                                     \
        for (; at + size <= length; at++) {                                                                \
            if (text[at] == word[0] && text[at + size - 1] == word[size - 1] && WORD_AT(CHAR, at))         \
                return at;                                                                                 \
        }                                                                                                  \
        return -1;                                                                                         \
    }

#define SET1_UCS1(ch) _mm_set1_epi8((char)(ch))
#define SET1_UCS2(ch) _mm_set1_epi16((short)(ch))
#define SET1_UCS4(ch) _mm_set1_epi32((int)(ch))
DEFINE_FIND_WORD(find_word_ucs1, Py_UCS1, SET1_UCS1, _mm_cmpeq_epi8, 0xFFFFu)
DEFINE_FIND_WORD(find_word_ucs2, Py_UCS2, SET1_UCS2, _mm_cmpeq_epi16, 0x5555u)
DEFINE_FIND_WORD(find_word_ucs4, Py_UCS4, SET1_UCS4, _mm_cmpeq_epi32, 0x1111u)

static PyObject *
find_word(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyUnicode_Check(args[0]) || !PyUnicode_Check(args[1]) || !PyLong_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "find_word(text, word, start): expected a str, a str and an int");
        return NULL;
    }
    PyObject *text = args[0], *word = args[1];
    Py_ssize_t start = PyLong_AsSsize_t(args[2]);
    if (start == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t length = PyUnicode_GET_LENGTH(text), size = PyUnicode_GET_LENGTH(word);
    if (size == 0 || start < 0) {
        PyErr_SetString(PyExc_ValueError, "find_word: expected a word and a start >= 0");
        return NULL;
    }
    int kind = PyUnicode_KIND(text), word_kind = PyUnicode_KIND(word);
    if (word_kind > kind || start > length - size)  /* a str is as narrow as its widest character */
        return PyLong_FromSsize_t(-1);
    const void *data = PyUnicode_DATA(text), *word_data = PyUnicode_DATA(word);
    void *widened = NULL;
    if (word_kind < kind) {
        widened = PyMem_Malloc((size_t)size * (size_t)kind);
        if (widened == NULL)
            return PyErr_NoMemory();
        for (Py_ssize_t i = 0; i < size; i++)
            PyUnicode_WRITE(kind, widened, i, PyUnicode_READ(word_kind, word_data, i));
        word_data = widened;
    }
    Py_ssize_t found;
    switch (kind) {
    case PyUnicode_1BYTE_KIND:
        found = find_word_ucs1((const Py_UCS1 *)data, length, (const Py_UCS1 *)word_data, size, start);
        break;
    case PyUnicode_2BYTE_KIND:
        found = find_word_ucs2((const Py_UCS2 *)data, length, (const Py_UCS2 *)word_data, size, start);
        break;
    default:
        found = find_word_ucs4((const Py_UCS4 *)data, length, (const Py_UCS4 *)word_data, size, start);
    }
    PyMem_Free(widened);
    return PyLong_FromSsize_t(found);
}

/* -- the usual replayed call answered whole (issue #16, session 7) -------------------------------------
 *
 * Lookup.answer(description) is Lookup.lookup for the Python replayer's calls, but where the first group is
 * one top-level response on one line whose value ValueParser.parse reads to a plain value (an int, or what
 * read_plain reads), it returns (value, line): the value read here and the response's line as the transcript
 * writes it (the mock's own line: ``->`` + type + ``:`` + value + newline). That spares the replayer the
 * group's Item, its loop and the parse (~10k instructions of a call returning an int or a small dict). Every
 * other case is lookup's answer (a group list or None), so the Python replayer plays it as before. */

enum { ANSWER_MAX_INT_DIGITS = 18, ANSWER_LARGE = 512, ANSWER_MAX_CODE_CHARS = 1 << 20 };

/* ValueParser.parse's int path for text[from:to] (ASCII digits after an optional '-'): the int, or NULL
 * without an error when the text is not such an int or has more digits than fit here. */
static PyObject *
answer_int(int kind, const void *data, Py_ssize_t from, Py_ssize_t to)
{
    int negative = PyUnicode_READ(kind, data, from) == '-';
    Py_ssize_t first = from + negative;
    if (first >= to || to - first > ANSWER_MAX_INT_DIGITS)
        return NULL;
    long long value = 0;
    for (Py_ssize_t at = first; at < to; at++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, at);
        if (ch < '0' || ch > '9')
            return NULL;
        value = value * 10 + (long long)(ch - '0');
    }
    return PyLong_FromLongLong(negative ? -value : value);
}

/* What ValueParser.parse gives for the value text[from:to], when that is sure to be a plain value read the
 * same way here: an int as parse reads it, else what literals.read_literal reads with read_plain, under
 * read_literal's own limits (no NUL, no lone surrogate, at most MAX_CODE_CHARS) and not where parse asks
 * json first (a long list or dict). NULL without an error: the Python parser decides. */
static PyObject *
answer_value(PyObject *text, Py_ssize_t from, Py_ssize_t to)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t length = to - from;
    if (length <= 0 || length > ANSWER_MAX_CODE_CHARS || Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, from))
            || Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, to - 1)))
        return NULL;  /* parse strips the text first: only texts with nothing to strip are read here */
    PyObject *number = answer_int(kind, data, from, to);
    if (number != NULL || PyErr_Occurred())
        return number;
    Py_UCS4 first = PyUnicode_READ(kind, data, from);
    if ((length > ANSWER_LARGE && (first == '[' || first == '{')) || find_char(kind, data, from, to, '\0') >= 0)
        return NULL;
    if (kind != PyUnicode_1BYTE_KIND) {
        for (Py_ssize_t at = from; at < to; at++) {
            if (Py_UNICODE_IS_SURROGATE(PyUnicode_READ(kind, data, at)))
                return NULL;
        }
    }
    Plain p = {text, kind, data, from, to};
    PyObject *value = plain_value(&p, 0);
    if (value != NULL && plain_skip(&p, 0) != 0)
        Py_CLEAR(value);  /* more text after the value */
    return value;
}

/* The value Lookup.answer settles for ``description``, its key id and where its line is (text[begin:end]),
 * nothing changed yet (the caller counts the use); NULL without an error where the Python lookup decides
 * (``*key_id`` -1 where the key is not settled either). */
static PyObject *
settled_answer(Lookup *self, PyObject *description, Py_ssize_t *key_id, Response *found)
{
    *key_id = usual_key_id(self, description);
    if (*key_id < 0 || first_response(self, *key_id, found) != ONE_LINE || found->value_end != found->end - 1
            || !PyUnicode_CheckExact(PyTuple_GET_ITEM(found->kind, 0))
            || PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(found->kind, 0), "->") != 0)
        return NULL;
    return answer_value(self->text, found->colon + 1, found->value_end);
}

static PyObject *
Lookup_answer(Lookup *self, PyObject *description)
{
    Py_ssize_t key_id;
    Response found;
    PyObject *value = settled_answer(self, description, &key_id, &found);
    if (value == NULL) {
        if (PyErr_Occurred())
            return NULL;
        return group_or(self, key_id, description, self->lookup_fallback);
    }
    PyObject *line = PyUnicode_Substring(self->text, found.begin, found.end);
    PyObject *answer = line == NULL ? NULL : PyTuple_Pack(2, value, line);
    Py_DECREF(value);
    Py_XDECREF(line);
    if (answer != NULL)
        ((int *)self->uses.buf)[key_id]++;
    return answer;
}

/* caller_verdict(cache, own[, frame]): callstack.CallerFilter's walk out of capturemock's own frames, in C
 * (issue #16, session 7). From ``frame`` (by default the Python frame calling this), the verdict cached for
 * the first code object that is not capturemock's own, else the frame whose code has none yet (Python
 * classifies it once and asks again from there), else None past the outermost frame. ``cache`` maps
 * id(code) -> (code, verdict): an id is hashed in a few instructions, a code object's hash (3.11) walks its
 * constants, ~1.2k instructions a frame, four frames a recorded call. The Python twin in callstack.py is the
 * reference and the fallback. */
/* The walk of caller_verdict from ``frame`` (borrowed; NULL: none): the verdict or the unclassified frame
 * (new), None past the outermost frame, NULL with an error. */
static PyObject *
verdict_walk(PyObject *cache, PyObject *own, PyFrameObject *frame)
{
    Py_XINCREF(frame);
    while (frame != NULL) {
        PyCodeObject *code = PyFrame_GetCode(frame);
        PyObject *key = PyLong_FromVoidPtr(code);
        PyObject *entry = key == NULL ? NULL : PyDict_GetItemWithError(cache, key);
        Py_XDECREF(key);
        int known = entry != NULL && PyTuple_CheckExact(entry) && PyTuple_GET_SIZE(entry) == 2
                    && PyTuple_GET_ITEM(entry, 0) == (PyObject *)code;
        Py_DECREF(code);
        if (!known) {
            if (PyErr_Occurred()) {
                Py_DECREF(frame);
                return NULL;
            }
            return (PyObject *)frame;  /* not classified yet */
        }
        PyObject *verdict = PyTuple_GET_ITEM(entry, 1);
        if (verdict != own) {
            Py_INCREF(verdict);
            Py_DECREF(frame);
            return verdict;
        }
        PyFrameObject *back = PyFrame_GetBack(frame);
        Py_DECREF(frame);
        frame = back;
    }
    Py_RETURN_NONE;
}

static PyObject *
caller_verdict(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs < 2 || nargs > 3 || !PyDict_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "caller_verdict(cache: dict, own[, frame])");
        return NULL;
    }
    PyFrameObject *frame = nargs == 3 && args[2] != Py_None ? (PyFrameObject *)args[2] : PyEval_GetFrame();
    if (frame != NULL && !PyFrame_Check(frame)) {
        PyErr_SetString(PyExc_TypeError, "caller_verdict: frame must be a frame");
        return NULL;
    }
    return verdict_walk(args[0], args[1], frame);
}

/* one_line_dict(mapping, full_floats): values._one_line_dict in C (issue #16, session 7): what pprint writes
 * for a dict of str keys and int, str, bool, None or float values that fits one line (its repr with the
 * keys sorted), else None. The Python function is the reference and the fallback; this one saves a
 * recorded call returning a small dict its ~130 bytecodes (~8k instructions). */
enum { ONE_LINE_WIDTH = 130 };

/* one_line_dict's text of ``mapping`` (a dict), or None. */
static PyObject *
one_line_text(PyObject *mapping, int full_floats)
{
    if (PyDict_GET_SIZE(mapping) > ONE_LINE_WIDTH / 4)  /* ``'': 0, `` each: longer than one line */
        Py_RETURN_NONE;
    PyObject *keys = PyDict_Keys(mapping);
    if (keys == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(keys, i))) {  /* the Python one gives up on these too */
            Py_DECREF(keys);
            Py_RETURN_NONE;
        }
    }
    PyObject *ordered = PyList_Sort(keys) < 0 ? NULL : PyDict_New();  /* str keys: the sort cannot fail */
    for (Py_ssize_t i = 0; ordered != NULL && i < PyList_GET_SIZE(keys); i++) {
        PyObject *key = PyList_GET_ITEM(keys, i);
        PyObject *element = PyDict_GetItemWithError(mapping, key);
        if (element == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_RuntimeError, "one_line_dict: the dict changed while it was read");
            Py_CLEAR(ordered);
            break;
        }
        PyTypeObject *kind = Py_TYPE(element);
        if (kind == &PyFloat_Type && !full_floats) {
            element = PyObject_CallMethod(element, "__round__", "i", 2);  /* round(element, 2) */
        } else if (kind == &PyFloat_Type || kind == &PyLong_Type || kind == &PyUnicode_Type || kind == &PyBool_Type
                   || element == Py_None) {
            Py_INCREF(element);
        } else {
            Py_DECREF(ordered);
            Py_DECREF(keys);
            Py_RETURN_NONE;
        }
        if (element == NULL || PyDict_SetItem(ordered, key, element) < 0)
            Py_CLEAR(ordered);
        Py_XDECREF(element);
    }
    Py_DECREF(keys);
    if (ordered == NULL)
        return NULL;
    PyObject *line = PyObject_Repr(ordered);
    Py_DECREF(ordered);
    if (line == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError))
            return NULL;
        PyErr_Clear();  /* an int with more digits than repr writes: render's own way, in hex */
        Py_RETURN_NONE;
    }
    if (PyUnicode_GET_LENGTH(line) > ONE_LINE_WIDTH) {
        Py_DECREF(line);
        Py_RETURN_NONE;
    }
    return line;
}

static PyObject *
one_line_dict(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "one_line_dict(mapping: dict, full_floats)");
        return NULL;
    }
    int full_floats = PyObject_IsTrue(args[1]);
    return full_floats < 0 ? NULL : one_line_text(args[0], full_floats);
}

/* -- the usual replayed python call whole (issue #16 item 2, session 8) --------------------------------
 *
 * A replayed python call in Python is ~26k instructions: the session's frames, lock, guard and checks,
 * rendering the request, Lookup.answer, queueing both lines, joining and encoding them, the writer's lock
 * and os.write. Lookup.call_replayer(fallback, session, handle_type, missing, full_floats) makes the callable
 * the session answers calls with (``Session.call``'s place) that does all of it here for the usual call: a
 * proxy of the exact Handle type without a real target, no guard, no callback level, no bypass, no rename,
 * nothing queued, arguments that are ints, strs, floats, bools or None (written as values.render writes
 * them), an answer Lookup.answer settles, the record file open. It takes the session's lock, then the
 * writer's, as the Python path does, counts the use and writes the request and response lines in one
 * write(2) (the GIL released meanwhile, as os.write does) before it returns: on disk when the call
 * returns. Every other call goes whole to ``fallback`` (Session.call, the reference) before anything was
 * changed; so do errors met before then (Python meets them again, and reports them its own way). */

enum { CALL_MAX_ARGS = 16, CALL_MAX_PARTS = 5 + 4 * CALL_MAX_ARGS, CALL_MAX_DEPTH = 32, RENDER_WIDTH = 130 };

#define CALL_NAMES(APPLY) \
    APPLY(guard) APPLY(level) APPLY(reaches_real) APPLY(closed) APPLY(_pending) APPLY(_real_calls_running) \
    APPLY(_fd) APPLY(_torn) APPLY(_size) APPLY(written) APPLY(acquire) APPLY(release) \
    APPLY(__round__) APPLY(__dict__) APPLY(state) APPLY(bypass) APPLY(lock) APPLY(writer)
#define CALL_NAME_DECLARE(name) static PyObject *str_##name;
#define CALL_NAME_MAKE(name) \
    if (str_##name == NULL && (str_##name = PyUnicode_InternFromString(#name)) == NULL) \
        return -1;
CALL_NAMES(CALL_NAME_DECLARE)
/* the fixed parts of a request's text, and round()'s 2 */
static PyObject *text_request, *text_open, *text_comma, *text_equals, *text_close, *text_dot, *text_set_lower,
    *text_set_upper, *two;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *fallback;        /* Session.call of the session: every call not settled here */
    PyObject *state;           /* session.state: the thread's guard and callback level */
    /* the instance dicts of the session, its Bypass and its MockWriter: their plain attributes, read and
     * written as attribute access would (none of those classes has a descriptor of these names) */
    PyObject *session_dict, *bypass_dict, *writer_dict;
    PyObject *writer;          /* for its repairs of a failed or short write */
    PyObject *acquire, *release, *writer_acquire, *writer_release;  /* the locks' bound methods */
    Lookup *lookup;
    PyObject *missing;         /* proxies.MISSING: a handle without a real target */
    PyTypeObject *handle_type; /* proxies.Handle: its slots are read at their offsets */
    Py_ssize_t target_at, owner_at, attr_at, fixed_name_at, own_name_at, renamable_at;
    int full_floats;
} CallReplayer;

static int
make_call_names(void)
{
    CALL_NAMES(CALL_NAME_MAKE)
    const char *texts[] = {"<-PYT:", "(", ", ", "=", ")", ".", "set", "Set"};
    PyObject **into[] = {&text_request, &text_open, &text_comma, &text_equals, &text_close, &text_dot, &text_set_lower,
                         &text_set_upper};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        if (*into[i] == NULL && (*into[i] = PyUnicode_InternFromString(texts[i])) == NULL)
            return -1;
    }
    if (two == NULL && (two = PyLong_FromLong(2)) == NULL)
        return -1;
    return 0;
}

/* A slot's value read at its offset (borrowed; NULL, without an error, where unset). */
static PyObject *
slot_at(PyObject *obj, Py_ssize_t offset)
{
    return *(PyObject **)((char *)obj + offset);
}

static int
slot_offset(PyTypeObject *type, const char *name, Py_ssize_t *offset)
{
    PyObject *descriptor = PyDict_GetItemString(type->tp_dict, name);
    if (descriptor == NULL || !Py_IS_TYPE(descriptor, &PyMemberDescr_Type)
            || ((PyDescrObject *)descriptor)->d_type != type) {
        PyErr_Format(PyExc_TypeError, "call_replayer: handle_type has no slot %s", name);
        return -1;
    }
    *offset = ((PyMemberDescrObject *)descriptor)->d_member->offset;
    return 0;
}

/* The str of ``parts`` joined (each an exact str): one allocation, no list. */
static Py_ALWAYS_INLINE inline PyObject *
join_parts(PyObject *const *parts, Py_ssize_t count)
{
    Py_ssize_t length = 0;
    Py_UCS4 widest = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        length += PyUnicode_GET_LENGTH(parts[i]);
        Py_UCS4 part_widest = PyUnicode_MAX_CHAR_VALUE(parts[i]);
        widest = part_widest > widest ? part_widest : widest;
    }
    PyObject *joined = PyUnicode_New(length, widest);
    Py_ssize_t at = 0;
    if (joined != NULL && widest < 256) {  /* every part is one byte a character, as the joined text */
        for (Py_ssize_t i = 0; i < count; i++) {
            memcpy(PyUnicode_1BYTE_DATA(joined) + at, PyUnicode_1BYTE_DATA(parts[i]), (size_t)PyUnicode_GET_LENGTH(parts[i]));
            at += PyUnicode_GET_LENGTH(parts[i]);
        }
        return joined;
    }
    for (Py_ssize_t i = 0; joined != NULL && i < count; i++) {
        if (PyUnicode_CopyCharacters(joined, at, parts[i], 0, PyUnicode_GET_LENGTH(parts[i])) < 0)
            Py_CLEAR(joined);
        else
            at += PyUnicode_GET_LENGTH(parts[i]);
    }
    return joined;
}

/* Handle.name: the fixed name, else the owner's name and the attribute, else its own name; NULL (an error
 * or not) where it is anything but exact strs of exact Handles. */
static PyObject *
handle_name(CallReplayer *self, PyObject *handle, int depth)
{
    if (depth > CALL_MAX_DEPTH || !Py_IS_TYPE(handle, self->handle_type))
        return NULL;
    PyObject *fixed = slot_at(handle, self->fixed_name_at), *owner = slot_at(handle, self->owner_at);
    if (fixed != NULL && fixed != Py_None) {
        if (!PyUnicode_CheckExact(fixed))
            return NULL;
        Py_INCREF(fixed);
        return fixed;
    }
    if (fixed == NULL || owner == NULL)
        return NULL;
    if (owner == Py_None) {
        PyObject *own = slot_at(handle, self->own_name_at);
        if (own == NULL || !PyUnicode_CheckExact(own))
            return NULL;
        Py_INCREF(own);
        return own;
    }
    PyObject *attr = slot_at(handle, self->attr_at);
    if (attr == NULL || !PyUnicode_CheckExact(attr))
        return NULL;
    PyObject *owner_name = handle_name(self, owner, depth + 1);
    if (owner_name == NULL)
        return NULL;
    PyObject *parts[] = {owner_name, text_dot, attr};
    PyObject *name = join_parts(parts, 3);
    Py_DECREF(owner_name);
    return name;
}

/* repr of an int that fits a long long, written here: repr's own conversion is ~4x the instructions. */
static PyObject *
decimal_text(long long number)
{
    char digits[24];
    char *start = digits + sizeof(digits);
    unsigned long long magnitude = number < 0 ? 0ULL - (unsigned long long)number : (unsigned long long)number;
    do {
        *--start = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (number < 0)
        *--start = '-';
    Py_ssize_t length = digits + sizeof(digits) - start;
    PyObject *text = PyUnicode_New(length, 127);
    if (text != NULL)
        memcpy(PyUnicode_1BYTE_DATA(text), start, (size_t)length);
    return text;
}

/* values.render's text of an int, str, float, bool or None (its hook is never asked for those); NULL (an
 * error or not) for anything else, a huge int, a str written over several lines. */
static PyObject *
render_plain(CallReplayer *self, PyObject *value)
{
    PyTypeObject *kind = Py_TYPE(value);
    if (kind == &PyLong_Type) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        return overflow ? PyObject_Repr(value) : decimal_text(number);
    }
    if (kind == &PyBool_Type || value == Py_None || (kind == &PyFloat_Type && self->full_floats))
        return PyObject_Repr(value);
    if (kind == &PyUnicode_Type) {
        PyObject *text = PyObject_Repr(value);
        if (text != NULL && PyUnicode_GET_LENGTH(text) > RENDER_WIDTH)
            Py_CLEAR(text);  /* pformat splits it */
        return text;
    }
    if (kind != &PyFloat_Type)
        return NULL;
    PyObject *rounded = PyObject_CallMethodOneArg(value, str___round__, two);  /* round(value, 2) */
    PyObject *text = rounded == NULL ? NULL : PyObject_Str(rounded);
    Py_XDECREF(rounded);
    return text;
}

/* The request's description, ``<-PYT:name(args, key=value)`` as Session.request_text writes it (keywords
 * sorted); NULL (an error or not) where values.render_call is needed. */
static Py_ALWAYS_INLINE inline PyObject *
request_description(CallReplayer *self, PyObject *name, PyObject *args, PyObject *kwargs)
{
    Py_ssize_t arg_count = PyTuple_GET_SIZE(args), keyword_count = PyDict_GET_SIZE(kwargs);
    if (arg_count + keyword_count > CALL_MAX_ARGS)
        return NULL;
    PyObject *keys = keyword_count ? PyDict_Keys(kwargs) : NULL;
    if (keyword_count && (keys == NULL || PyList_Sort(keys) < 0)) {
        Py_XDECREF(keys);
        return NULL;
    }
    PyObject *parts[CALL_MAX_PARTS];
    Py_ssize_t count = 0;
    int settled = 1;
#define ADD_PART(part) do { PyObject *added = (part); if (added == NULL) settled = 0; else parts[count++] = added; } while (0)
#define ADD_TEXT(text) do { Py_INCREF(text); parts[count++] = (text); } while (0)
    ADD_TEXT(text_request);
    ADD_TEXT(name);
    ADD_TEXT(text_open);
    for (Py_ssize_t i = 0; settled && i < arg_count; i++) {
        if (i > 0)
            ADD_TEXT(text_comma);
        ADD_PART(render_plain(self, PyTuple_GET_ITEM(args, i)));
    }
    for (Py_ssize_t i = 0; settled && i < keyword_count; i++) {
        PyObject *key = PyList_GET_ITEM(keys, i), *value = PyDict_GetItemWithError(kwargs, key);
        if (!PyUnicode_CheckExact(key) || value == NULL) {
            settled = 0;
            break;
        }
        if (i > 0 || arg_count > 0)
            ADD_TEXT(text_comma);
        ADD_TEXT(key);
        ADD_TEXT(text_equals);
        ADD_PART(render_plain(self, value));
    }
#undef ADD_PART
#undef ADD_TEXT
    Py_XDECREF(keys);
    PyObject *description = NULL;
    if (settled) {
        Py_INCREF(text_close);
        parts[count++] = text_close;
        description = join_parts(parts, count);
    }
    for (Py_ssize_t i = 0; i < count; i++)
        Py_DECREF(parts[i]);
    return description;
}

/* A plain attribute's value in an instance dict (borrowed), NULL where absent. */
static PyObject *
attribute_in(PyObject *namespace, PyObject *name)
{
    PyObject *value = PyDict_GetItemWithError(namespace, name);
    if (value == NULL)
        PyErr_Clear();  /* a str key's lookup does not fail; Python reads it again if it did */
    return value;
}

static int
is_zero(PyObject *value)
{
    int overflow;
    return value != NULL && PyLong_CheckExact(value) && PyLong_AsLongAndOverflow(value, &overflow) == 0 && !overflow;
}

/* The thread's namespace of session.state (new), NULL (without an error) where it is not a plain dict. */
static Py_ALWAYS_INLINE inline PyObject *
thread_namespace(CallReplayer *self)
{
    PyObject *namespace = PyObject_GetAttr(self->state, str___dict__);
    if (namespace != NULL && !PyDict_CheckExact(namespace))
        Py_CLEAR(namespace);
    PyErr_Clear();
    return namespace;
}

/* Whether ``namespace`` (the thread's, of session.state) says outside intercepted code and callbacks:
 * ``guard`` and ``level`` 0 (absent until first set: the class's, 0, checked by call_replayer). */
static Py_ALWAYS_INLINE inline int
outside_in(PyObject *namespace)
{
    PyObject *guard = attribute_in(namespace, str_guard), *level = attribute_in(namespace, str_level);
    return (guard == NULL || is_zero(guard)) && (level == NULL || is_zero(level));
}

/* Whether this thread is outside intercepted code and callbacks. */
static int
outside_intercepted_code(CallReplayer *self)
{
    PyObject *namespace = thread_namespace(self);
    int outside = namespace != NULL && outside_in(namespace);
    Py_XDECREF(namespace);
    return outside;
}

/* Whether a call of ``handle`` (an exact Handle) keeps its owner's name: not ``owner.renamable and
 * handle.attr[:3] in ("set", "Set")``, the call that may rename its owner (Session.call). */
static Py_ALWAYS_INLINE inline int
keeps_name(CallReplayer *self, PyObject *handle)
{
    PyObject *owner = slot_at(handle, self->owner_at);
    if (owner == NULL)
        return 0;
    if (owner == Py_None)
        return 1;
    if (!Py_IS_TYPE(owner, self->handle_type))
        return 0;
    PyObject *renamable = slot_at(owner, self->renamable_at), *attr = slot_at(handle, self->attr_at);
    if (renamable == Py_False)
        return 1;
    if (renamable != Py_True || attr == NULL || !PyUnicode_CheckExact(attr))
        return 0;
    return PyUnicode_Tailmatch(attr, text_set_lower, 0, 3, -1) == 0 && PyUnicode_Tailmatch(attr, text_set_upper, 0, 3, -1) == 0;
}

/* Whether the call of ``handle`` is one this file may settle, judged before anything is taken: as
 * Session.call sees it, no real target, not in the guard or a callback, no bypass, no rename. */
static int
usual_call(CallReplayer *self, PyObject *handle, PyObject *args, PyObject *kwargs)
{
    if (!Py_IS_TYPE(handle, self->handle_type) || !PyTuple_CheckExact(args) || !PyDict_CheckExact(kwargs)
            || slot_at(handle, self->target_at) != self->missing)
        return 0;
    if (attribute_in(self->bypass_dict, str_reaches_real) != Py_False
            || attribute_in(self->bypass_dict, str_closed) != Py_False || !outside_intercepted_code(self))
        return 0;
    return keeps_name(self, handle);
}

/* An error being raised, kept aside while a lock is released or the guard taken back. */
typedef struct {
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *raised;
#else
    PyObject *type, *value, *traceback;
#endif
} Raised;

static void
raised_save(Raised *raised)
{
#if PY_VERSION_HEX >= 0x030C0000
    raised->raised = PyErr_GetRaisedException();
#else
    PyErr_Fetch(&raised->type, &raised->value, &raised->traceback);
#endif
}

/* Raise the kept error again (``status``), or drop it where what ran meanwhile failed (-1, its error). */
static int
raised_restore(Raised *raised, int status, int meanwhile)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (meanwhile < 0) {
        Py_XDECREF(raised->raised);
        return -1;
    }
    PyErr_SetRaisedException(raised->raised);
#else
    if (meanwhile < 0) {
        Py_XDECREF(raised->type);
        Py_XDECREF(raised->value);
        Py_XDECREF(raised->traceback);
        return -1;
    }
    PyErr_Restore(raised->type, raised->value, raised->traceback);
#endif
    return status;
}

/* state.guard += by, as Session.call's guard: what runs inside it (the writer's repairs, a signal handler)
 * is capturemock's own work, not traffic. */
static int
guard_by(CallReplayer *self, long by)
{
    PyObject *guard = PyObject_GetAttr(self->state, str_guard);
    PyObject *delta = guard == NULL ? NULL : PyLong_FromLong(by);
    PyObject *moved = delta == NULL ? NULL : PyNumber_Add(guard, delta);
    int status = moved == NULL ? -1 : PyObject_SetAttr(self->state, str_guard, moved);
    Py_XDECREF(guard);
    Py_XDECREF(delta);
    Py_XDECREF(moved);
    return status;
}

/* The guard taken back after guard_by(self, 1), keeping the error being raised, if any: ``status``, or -1. */
static int
end_guard(CallReplayer *self, int status)
{
    Raised raised;
    raised_save(&raised);
    return raised_restore(&raised, status, guard_by(self, -1));
}

/* MockWriter.write_text's os.write of ``data`` on ``fd``, under both locks: a write interrupted by a signal is
 * tried again once its handler ran (PEP 475); a failed or short one is the Python writer's to deal with,
 * as there (``_failed`` raises the one-line MockFileError, ``_finish`` completes it). */
static Py_ALWAYS_INLINE inline int
write_record(CallReplayer *self, int fd, PyObject *data)
{
    const char *bytes = PyBytes_AS_STRING(data);
    Py_ssize_t size = PyBytes_GET_SIZE(data), written;
    int error;
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        written = write(fd, bytes, (size_t)size);
        error = errno;
        Py_END_ALLOW_THREADS
        if (written >= 0 || error != EINTR)
            break;
        if (guard_by(self, 1) < 0 || end_guard(self, PyErr_CheckSignals()) < 0)
            return -1;
    }
    if (written >= 0 && written == size)
        return 0;
    if (guard_by(self, 1) < 0)
        return -1;
    PyObject *result;
    if (written < 0) {
        PyObject *failure = PyObject_CallFunction(PyExc_OSError, "is", error, strerror(error));
        result = failure == NULL ? NULL : PyObject_CallMethod(self->writer, "_failed", "iOiO", fd, data, 0, failure);
        Py_XDECREF(failure);
    } else {
        result = PyObject_CallMethod(self->writer, "_finish", "iOn", fd, data, written);
    }
    Py_XDECREF(result);
    return end_guard(self, result == NULL ? -1 : 0);
}

/* A lock's acquire or release (bound): 0, or -1 with its error. */
static int
call_lock(PyObject *method)
{
    PyObject *result = PyObject_CallNoArgs(method);
    Py_XDECREF(result);
    return result == NULL ? -1 : 0;
}

/* A lock's release, whatever is being raised: ``status``, or -1. */
static int
release_lock(PyObject *release, int status)
{
    if (!PyErr_Occurred())
        return call_lock(release) < 0 ? -1 : status;
    Raised raised;
    raised_save(&raised);
    return raised_restore(&raised, status, call_lock(release));
}

/* The record file's descriptor where MockWriter.write_text would write at once (open, no TORN line owed),
 * else -1 and Python writes (it opens the file on the first item). */
static Py_ALWAYS_INLINE inline int
open_record_fd(CallReplayer *self)
{
    PyObject *fd = attribute_in(self->writer_dict, str__fd);
    int overflow = 0;
    long number = fd != NULL && PyLong_CheckExact(fd) && attribute_in(self->writer_dict, str__torn) == Py_False
                  ? PyLong_AsLongAndOverflow(fd, &overflow) : -1;
    return overflow || number < 0 || number > INT_MAX ? -1 : (int)number;
}

/* MockWriter.write_text's ``self._size += len(data)`` and ``self.written = True``. */
static Py_ALWAYS_INLINE inline int
count_written(CallReplayer *self, Py_ssize_t size)
{
    PyObject *old = attribute_in(self->writer_dict, str__size);
    if (old == NULL) {
        PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '_size'", Py_TYPE(self->writer)->tp_name);
        return -1;
    }
    Py_INCREF(old);
    PyObject *added = PyLong_FromSsize_t(size);
    PyObject *grown = added == NULL ? NULL : PyNumber_Add(old, added);
    int status = grown == NULL || PyDict_SetItem(self->writer_dict, str__size, grown) < 0 ? -1
                 : PyDict_SetItem(self->writer_dict, str_written, Py_True);
    Py_XDECREF(old);
    Py_XDECREF(added);
    Py_XDECREF(grown);
    return status;
}

/* The request line and the response's line text[begin:end] as the bytes MockWriter.write_text writes for
 * them (UTF-8: neither holds a surrogate, repr escapes them and answer_value refuses them); NULL (an error
 * or not) otherwise. */
static PyObject *
record_bytes(Lookup *lookup, PyObject *description, const Response *found)
{
    Py_ssize_t request_size, response_size = found->end - found->begin;
    const char *request = PyUnicode_AsUTF8AndSize(description, &request_size), *response = NULL;
    PyObject *line = NULL;
    if (PyUnicode_IS_ASCII(lookup->text))
        response = (const char *)PyUnicode_DATA(lookup->text) + found->begin;
    else if ((line = PyUnicode_Substring(lookup->text, found->begin, found->end)) != NULL)
        response = PyUnicode_AsUTF8AndSize(line, &response_size);
    PyObject *data = request == NULL || response == NULL ? NULL
                     : PyBytes_FromStringAndSize(NULL, request_size + 1 + response_size);
    if (data != NULL) {
        char *into = PyBytes_AS_STRING(data);
        memcpy(into, request, (size_t)request_size);
        into[request_size] = '\n';
        memcpy(into + request_size + 1, response, (size_t)response_size);
    }
    Py_XDECREF(line);
    return data;
}

/* Whether the request written with ``name`` is one line as Session.call queues it (not escaped). */
static Py_ALWAYS_INLINE inline int
one_line_name(PyObject *name)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(name);
    return length > 0 && PyUnicode_READ_CHAR(name, 0) != '|' && PyUnicode_FindChar(name, '\n', 0, length, 1) == -1;
}

/* Session.call of the usual replayed call: its value (new); NULL with an error raised on the way (taking a
 * lock, writing), as Python raises it; NULL without one where nothing was changed and Python decides. */
static PyObject *
replay_whole(CallReplayer *self, PyObject *handle, PyObject *args, PyObject *kwargs)
{
    if (!usual_call(self, handle, args, kwargs))
        return NULL;
    PyObject *name = handle_name(self, handle, 0), *description = NULL;
    if (name != NULL && one_line_name(name))
        description = request_description(self, name, args, kwargs);
    Py_XDECREF(name);
    if (description == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (call_lock(self->acquire) < 0) {
        Py_DECREF(description);
        return NULL;
    }
    PyObject *pending = attribute_in(self->session_dict, str__pending), *value = NULL, *data = NULL;
    int idle = pending != NULL && PyList_CheckExact(pending) && PyList_GET_SIZE(pending) == 0
               && is_zero(attribute_in(self->session_dict, str__real_calls_running));
    Py_ssize_t key_id = -1;
    Response found;
    if (idle && (value = settled_answer(self->lookup, description, &key_id, &found)) != NULL)
        data = record_bytes(self->lookup, description, &found);
    Py_DECREF(description);
    PyErr_Clear();  /* what failed so far changed nothing: Python meets it again */
    int status = 0, settled = 0;
    if (data != NULL) {
        status = call_lock(self->writer_acquire);
        int fd = status < 0 ? -1 : open_record_fd(self);
        if (fd >= 0) {
            settled = 1;
            ((int *)self->lookup->uses.buf)[key_id]++;
            status = write_record(self, fd, data);
            if (status == 0)
                status = count_written(self, PyBytes_GET_SIZE(data));
        }
        if (status == 0 || fd >= 0)
            status = release_lock(self->writer_release, status);
        Py_DECREF(data);
    }
    status = release_lock(self->release, status);
    if (status < 0 || !settled)
        Py_CLEAR(value);
    return value;
}

static PyObject *
CallReplayer_vectorcall(CallReplayer *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) == 3 && kwnames == NULL) {
        PyObject *value = replay_whole(self, args[0], args[1], args[2]);
        if (value != NULL || PyErr_Occurred())
            return value;
    }
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

#define CALL_REPLAYER_OBJECTS(APPLY) \
    APPLY(fallback) APPLY(state) APPLY(session_dict) APPLY(bypass_dict) APPLY(writer_dict) APPLY(writer) \
    APPLY(acquire) APPLY(release) APPLY(writer_acquire) APPLY(writer_release) APPLY(lookup) APPLY(missing) \
    APPLY(handle_type)

static int
CallReplayer_traverse(CallReplayer *self, visitproc visit, void *arg)
{
    CALL_REPLAYER_OBJECTS(LOOKUP_VISIT)
    return 0;
}

static int
CallReplayer_clear(CallReplayer *self)
{
    CALL_REPLAYER_OBJECTS(LOOKUP_CLEAR)
    return 0;
}

static void
CallReplayer_dealloc(CallReplayer *self)
{
    PyObject_GC_UnTrack(self);
    CallReplayer_clear(self);
    PyObject_GC_Del(self);
}

static PyTypeObject CallReplayerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "capturemock._speedups.CallReplayer",
    .tp_doc = "Session.call, settling the usual replayed call in C (made by Lookup.call_replayer).",
    .tp_basicsize = sizeof(CallReplayer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(CallReplayer, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_dealloc = (destructor)CallReplayer_dealloc,
    .tp_traverse = (traverseproc)CallReplayer_traverse,
    .tp_clear = (inquiry)CallReplayer_clear,
};

/* The namespaces and lock methods call_replayer keeps of the session, its bypass and writer. */
static int
session_parts(CallReplayer *replayer, PyObject *session)
{
    PyObject *bypass = PyObject_GetAttr(session, str_bypass), *lock = PyObject_GetAttr(session, str_lock);
    PyObject *writer_lock = PyObject_GetAttr(replayer->writer, str_lock);
    PyObject *state_type = (PyObject *)Py_TYPE(replayer->state);
    PyObject *guard = PyObject_GetAttr(state_type, str_guard), *level = PyObject_GetAttr(state_type, str_level);
    int status = -1;
    if (bypass != NULL && lock != NULL && writer_lock != NULL && guard != NULL && level != NULL) {
        if (!is_zero(guard) || !is_zero(level))
            PyErr_SetString(PyExc_TypeError, "call_replayer: session.state's guard and level must start at 0");
        else if ((replayer->session_dict = PyObject_GenericGetDict(session, NULL)) != NULL
                 && (replayer->bypass_dict = PyObject_GenericGetDict(bypass, NULL)) != NULL
                 && (replayer->writer_dict = PyObject_GenericGetDict(replayer->writer, NULL)) != NULL
                 && (replayer->acquire = PyObject_GetAttr(lock, str_acquire)) != NULL
                 && (replayer->release = PyObject_GetAttr(lock, str_release)) != NULL
                 && (replayer->writer_acquire = PyObject_GetAttr(writer_lock, str_acquire)) != NULL
                 && (replayer->writer_release = PyObject_GetAttr(writer_lock, str_release)) != NULL)
            status = 0;
    }
    Py_XDECREF(bypass);
    Py_XDECREF(lock);
    Py_XDECREF(writer_lock);
    Py_XDECREF(guard);
    Py_XDECREF(level);
    return status;
}

/* A new CallReplayer's fields (``replayer`` zeroed but for its head) from Lookup.call_replayer's arguments
 * (``lookup``: NULL for call_recorder); -1 with an error. */
static int
settler_fill(CallReplayer *replayer, PyObject *fallback, PyObject *session, PyObject *handle_type,
             PyObject *missing, int full_floats, PyObject *lookup)
{
    replayer->full_floats = full_floats;
    PyObject *given[] = {fallback, missing, handle_type, lookup};
    PyObject **into[] = {&replayer->fallback, &replayer->missing, (PyObject **)&replayer->handle_type,
                         (PyObject **)&replayer->lookup};
    for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++) {
        Py_XINCREF(given[i]);
        *into[i] = given[i];
    }
    PyTypeObject *type = (PyTypeObject *)handle_type;
    if (slot_offset(type, "target", &replayer->target_at) < 0 || slot_offset(type, "owner", &replayer->owner_at) < 0
            || slot_offset(type, "attr", &replayer->attr_at) < 0
            || slot_offset(type, "fixed_name", &replayer->fixed_name_at) < 0
            || slot_offset(type, "own_name", &replayer->own_name_at) < 0
            || slot_offset(type, "renamable", &replayer->renamable_at) < 0
            || (replayer->state = PyObject_GetAttr(session, str_state)) == NULL
            || (replayer->writer = PyObject_GetAttr(session, str_writer)) == NULL
            || session_parts(replayer, session) < 0)
        return -1;
    return 0;
}

/* Lookup.call_replayer(fallback, session, handle_type, missing, full_floats): the session's ``call``. */
static PyObject *
Lookup_call_replayer(Lookup *self, PyObject *args)
{
    PyObject *fallback, *session, *handle_type, *missing;
    int full_floats;
    if (!PyArg_ParseTuple(args, "OOO!Op:call_replayer", &fallback, &session, &PyType_Type, &handle_type, &missing,
                          &full_floats) || make_call_names() < 0)
        return NULL;
    CallReplayer *replayer = PyObject_GC_New(CallReplayer, &CallReplayerType);
    if (replayer == NULL)
        return NULL;
    memset((char *)replayer + sizeof(PyObject), 0, sizeof(CallReplayer) - sizeof(PyObject));
    replayer->vectorcall = (vectorcallfunc)CallReplayer_vectorcall;
    if (settler_fill(replayer, fallback, session, handle_type, missing, full_floats, (PyObject *)self) < 0) {
        Py_DECREF(replayer);
        return NULL;
    }
    PyObject_GC_Track(replayer);
    return (PyObject *)replayer;
}

/* -- a large replayed HTTP body (issue #16, session 8) ------------------------------------------------
 *
 * decode_base64(text, start, end): httptext's ``base64:`` body digits text[start:end] decoded, read straight
 * from the mock text (no 14 MB slice) into a bytes of its final size, or None where the digits are not in the
 * form httptext accepts (then the body is text). binascii.a2b_base64 over a slice is the Python
 * reference and fallback: 3-4 ns a character here, where this takes under one.
 * count_lines(text): (text.count("\n"), text.count("\n<-")) in one memchr pass, which sizes the replay index's
 * tables: a recorded body is one long line, so the pass is mostly one memchr over it. */

enum { BASE64_NOT_DIGIT = 0x80 };
static unsigned char base64_bits[256];  /* a character's 6 bits, BASE64_NOT_DIGIT for a non-digit */
static int base64_bits_ready = 0;

static void
fill_base64_bits(void)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(base64_bits, BASE64_NOT_DIGIT, sizeof base64_bits);
    for (int i = 0; i < 64; i++)
        base64_bits[(unsigned char)digits[i]] = (unsigned char)i;
    base64_bits_ready = 1;
}

static inline unsigned int
base64_digit(int kind, const void *data, Py_ssize_t at)
{
    Py_UCS4 ch = PyUnicode_READ(kind, data, at);
    return ch < 256 ? base64_bits[ch] : BASE64_NOT_DIGIT;
}

/* How many bytes text[start:end] decodes to, written to ``out`` (room for (end - start) / 4 * 3); -1 where
 * it is not base64 as httptext has it: a length that is a multiple of 4, at least one digit, then at most
 * two '='. Bits left over in the last digit are dropped, as a2b_base64 drops them. */
static Py_ALWAYS_INLINE inline Py_ssize_t
base64_run(int kind, const void *data, Py_ssize_t start, Py_ssize_t end, unsigned char *out)
{
    if ((end - start) % 4 != 0)
        return -1;
    Py_ssize_t digits_end = end;
    while (digits_end > start && end - digits_end < 2 && PyUnicode_READ(kind, data, digits_end - 1) == '=')
        digits_end--;
    if (digits_end == start)
        return -1;
    Py_ssize_t whole = start + (digits_end - start) / 4 * 4, written = 0;
    for (Py_ssize_t at = start; at < whole; at += 4) {
        unsigned int a = base64_digit(kind, data, at), b = base64_digit(kind, data, at + 1),
                     c = base64_digit(kind, data, at + 2), d = base64_digit(kind, data, at + 3);
        if ((a | b | c | d) & BASE64_NOT_DIGIT)
            return -1;
        unsigned int bits = a << 18 | b << 12 | c << 6 | d;
        out[written] = (unsigned char)(bits >> 16);
        out[written + 1] = (unsigned char)(bits >> 8);
        out[written + 2] = (unsigned char)bits;
        written += 3;
    }
    Py_ssize_t left = digits_end - whole;  /* 2 or 3 digits before the '=' (the length settles which) */
    if (left == 0)
        return written;
    unsigned int a = base64_digit(kind, data, whole), b = base64_digit(kind, data, whole + 1),
                 c = left == 3 ? base64_digit(kind, data, whole + 2) : 0;
    if ((a | b | c) & BASE64_NOT_DIGIT)
        return -1;
    unsigned int bits = a << 18 | b << 12 | c << 6;
    out[written] = (unsigned char)(bits >> 16);
    if (left == 3)
        out[written + 1] = (unsigned char)(bits >> 8);
    return written + left - 1;
}

static Py_ssize_t
base64_decode_into(PyObject *text, Py_ssize_t start, Py_ssize_t end, unsigned char *out)
{
    if (!base64_bits_ready)
        fill_base64_bits();
    const void *data = PyUnicode_DATA(text);
    if (PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND)  /* the usual: one inlined copy for it alone */
        return base64_run(PyUnicode_1BYTE_KIND, data, start, end, out);
    return base64_run(PyUnicode_KIND(text), data, start, end, out);
}

static PyObject *
decode_base64(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyUnicode_Check(args[0]) || !PyLong_Check(args[1]) || !PyLong_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "decode_base64(text, start, end): expected a str and two ints");
        return NULL;
    }
    PyObject *text = args[0];
    Py_ssize_t start = PyLong_AsSsize_t(args[1]), end = PyLong_AsSsize_t(args[2]);
    if ((start == -1 || end == -1) && PyErr_Occurred())
        return NULL;
    if (start < 0 || start > end || end > PyUnicode_GET_LENGTH(text)) {
        PyErr_SetString(PyExc_ValueError, "decode_base64: expected 0 <= start <= end <= len(text)");
        return NULL;
    }
    PyObject *body = PyBytes_FromStringAndSize(NULL, (end - start) / 4 * 3);
    if (body == NULL)
        return NULL;
    Py_ssize_t size = base64_decode_into(text, start, end, (unsigned char *)PyBytes_AS_STRING(body));
    if (size < 0) {  /* a text body after all (seldom: one that starts "base64:") */
        Py_DECREF(body);
        Py_RETURN_NONE;
    }
    if (size < (end - start) / 4 * 3 && _PyBytes_Resize(&body, size) < 0)
        return NULL;
    return body;
}

static PyObject *
count_lines(PyObject *module, PyObject *text)
{
    (void)module;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "count_lines(text): expected a str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text), lines = 0, requests = 0;
    for (Py_ssize_t at = find_char(kind, data, 0, length, '\n'); at >= 0;
         at = find_char(kind, data, at + 1, length, '\n')) {
        lines++;
        requests += at + 2 < length && PyUnicode_READ(kind, data, at + 1) == '<'
                    && PyUnicode_READ(kind, data, at + 2) == '-';
    }
    return Py_BuildValue("(nn)", lines, requests);
}

/* ascii_bytes(text): an ASCII str's own characters (its UTF-8 encoding: the same bytes) as a read-only
 * memoryview that keeps the str alive, else None. MockWriter.write_parts hands it to os.writev: a replayed
 * 14 MB reply recorded back is not encoded into a fresh 14 MB copy (~3.4 k page faults, ~10 ms here). */
typedef struct {
    PyObject_HEAD
    PyObject *text;  /* an ASCII str: its data never moves nor changes */
} TextBytes;

static int
TextBytes_getbuffer(TextBytes *self, Py_buffer *view, int flags)
{
    return PyBuffer_FillInfo(view, (PyObject *)self, PyUnicode_DATA(self->text), PyUnicode_GET_LENGTH(self->text),
                             1, flags);
}

static void
TextBytes_dealloc(TextBytes *self)
{
    Py_XDECREF(self->text);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyBufferProcs TextBytes_buffer = {.bf_getbuffer = (getbufferproc)TextBytes_getbuffer};

static PyTypeObject TextBytesType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "capturemock._speedups.TextBytes",
    .tp_doc = "An ASCII str's characters as a read-only buffer (see ascii_bytes).",
    .tp_basicsize = sizeof(TextBytes),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)TextBytes_dealloc,
    .tp_as_buffer = &TextBytes_buffer,
};

static PyObject *
ascii_bytes(PyObject *module, PyObject *text)
{
    (void)module;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "ascii_bytes(text): expected a str");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text))
        Py_RETURN_NONE;
    if (PyType_Ready(&TextBytesType) < 0)  /* once; here, so that the module's init stays as it was */
        return NULL;
    TextBytes *lender = PyObject_New(TextBytes, &TextBytesType);
    if (lender == NULL)
        return NULL;
    Py_INCREF(text);
    lender->text = text;
    PyObject *view = PyMemoryView_FromObject((PyObject *)lender);
    Py_DECREF(lender);  /* the view holds it */
    return view;
}

/* -- the usual recorded python call (issue #16 item 2, session 8) -------------------------------------
 *
 * A recorded python call in Python is ~45k instructions, ~62k returning a small dict: fifteen frames of the
 * session (the routing rule, the caller walk, the request text, the real call, the result's text, queueing,
 * joining, encoding and writing). call_recorder(fallback, session, handle_type, missing, full_floats, cache,
 * own) makes the callable the session answers calls with (``Session.call``'s place) in record mode that
 * does the session's part here for the usual call: a proxy of the exact Handle type with a real target, no
 * guard, no callback level, not closed, no rename, a caller that is traffic by CallerFilter's verdicts
 * (``cache``, ``own``: what caller_verdict reads), arguments as call_replayer takes them, nothing queued and
 * no real call running. Anything else goes whole to ``fallback`` (Session.call) before anything was changed.
 *
 * The real call itself is the one Session.call makes, in the state it makes it in: the session's lock held,
 * the thread's guard up twice (Session.call's and _real_call's), the request queued in ``_pending`` (a
 * callback flushes it: Session.calling_back) and ``_real_calls_running`` counted. Then, as _real_call: a
 * result of a kind values.render writes without its hook (an int, str, float, bool, or a dict on one line)
 * is written here; any other result, or a call that ended in a callback level, is the session's
 * ``real_call_returned``; an exception is ``real_call_raised`` (both Python, Session._real_call's own);
 * both lines go out in one write(2) when the queue holds just the request and the file is open, else by
 * ``Session.flush`` (the first call opens the file there). */

typedef struct {
    CallReplayer base;    /* its checks, names, locks and writer; ``lookup`` NULL */
    PyObject *cache;      /* CallerFilter.cache: id(code) -> (code, verdict), as caller_verdict reads it */
    PyObject *own;        /* callstack.OWN: the verdict of capturemock's own frames */
    PyObject *returned, *raised, *flush;  /* the session's real_call_returned, real_call_raised and flush */
} CallRecorder;

static PyObject *text_response, *text_newline;  /* "->RET:", "\n" */

/* Py_NewRef, which Python 3.9 lacks. */
static inline PyObject *
new_reference(PyObject *object)
{
    Py_INCREF(object);
    return object;
}

/* Whether the caller (the first frame outside capturemock) makes the call traffic, by CallerFilter's cache:
 * not excluded; 0 too for a frame met for the first time (Python classifies it). */
static int
traffic_caller(CallRecorder *self)
{
    PyObject *verdict = verdict_walk(self->cache, self->own, PyEval_GetFrame());
    int traffic = verdict == Py_False || verdict == Py_None;
    Py_XDECREF(verdict);
    PyErr_Clear();
    return traffic;
}

/* namespace[name] += delta, for the guard and the count of real calls (an absent guard is the class's 0). */
static int
add_to(PyObject *namespace, PyObject *name, long delta)
{
    PyObject *old = attribute_in(namespace, name), *moved;
    int overflow = 0;
    long value = old != NULL && PyLong_CheckExact(old) ? PyLong_AsLongAndOverflow(old, &overflow) : 0;
    if (old == NULL || (PyLong_CheckExact(old) && !overflow && labs(value) < LONG_MAX / 2)) {
        moved = PyLong_FromLong(value + delta);
    } else {
        PyObject *by = PyLong_FromLong(delta);
        moved = by == NULL ? NULL : PyNumber_Add(old, by);
        Py_XDECREF(by);
    }
    int status = moved == NULL ? -1 : PyDict_SetItem(namespace, name, moved);
    Py_XDECREF(moved);
    return status;
}

/* The response line values.render and Session.write give ``result`` (new), for the kinds written without the
 * hook; NULL (an error or not) for every other result. */
static PyObject *
response_line(CallReplayer *self, PyObject *result)
{
    PyObject *text;
    if (PyDict_CheckExact(result)) {
        text = one_line_text(result, self->full_floats);
        if (text == Py_None)
            Py_CLEAR(text);
    } else {
        text = render_plain(self, result);
    }
    PyObject *line = NULL;
    if (text != NULL) {
        PyObject *parts[] = {text_response, text, text_newline};
        line = join_parts(parts, 3);
        Py_DECREF(text);
    }
    return line;
}

/* The request and response lines (``response`` NULL: none) as UTF-8, in one bytes; NULL (an error or not)
 * where one will not encode so (Session.flush then writes them its own way). */
static PyObject *
lines_bytes(PyObject *request, PyObject *response)
{
    Py_ssize_t request_size, response_size = 0;
    const char *request_data = PyUnicode_AsUTF8AndSize(request, &request_size), *response_data = "";
    if (response != NULL && request_data != NULL)
        response_data = PyUnicode_AsUTF8AndSize(response, &response_size);
    PyObject *data = request_data == NULL || response_data == NULL ? NULL
                     : PyBytes_FromStringAndSize(NULL, request_size + response_size);
    if (data != NULL) {
        memcpy(PyBytes_AS_STRING(data), request_data, (size_t)request_size);
        memcpy(PyBytes_AS_STRING(data) + request_size, response_data, (size_t)response_size);
    }
    return data;
}

/* Session.flush of the call's lines: ``request`` (queued) and ``response`` (NULL: none) written here in one
 * write(2) where the queue holds just the request and the file is open; else the response queued and
 * Session.flush called. 0, or -1 with an error. */
static int
flush_lines(CallRecorder *self, PyObject *pending, PyObject *request, PyObject *response)
{
    CallReplayer *base = &self->base;
    PyObject *data = PyList_GET_SIZE(pending) == 1 && PyList_GET_ITEM(pending, 0) == request
                     ? lines_bytes(request, response) : NULL;
    PyErr_Clear();
    if (data != NULL) {
        if (call_lock(base->writer_acquire) < 0) {
            Py_DECREF(data);
            return -1;
        }
        int fd = open_record_fd(base), status = 0;
        if (fd >= 0) {
            status = PyList_SetSlice(pending, 0, 1, NULL);
            if (status == 0)
                status = write_record(base, fd, data);
            if (status == 0)
                status = count_written(base, PyBytes_GET_SIZE(data));
        }
        status = release_lock(base->writer_release, status);
        Py_DECREF(data);
        if (fd >= 0 || status < 0)
            return status;
    }
    if (response != NULL && PyList_Append(pending, response) < 0)
        return -1;
    PyObject *flushed = PyObject_CallNoArgs(self->flush);
    Py_XDECREF(flushed);
    return flushed == NULL ? -1 : 0;
}

/* The exception being raised by the real call, as its value with its traceback (new), NULL with the error
 * cleared where there is none. */
static PyObject *
fetch_raised(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();  /* normalized, its traceback set: what 3.12 deprecates PyErr_Fetch for */
#else
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (value != NULL && traceback != NULL)
        PyException_SetTraceback(value, traceback);
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    return value;
#endif
}

/* After the real call, Session._real_call's and Session.call's part: the value to return (new), or NULL with
 * what is raised. ``result`` NULL: the real call raised (the error set). */
static PyObject *
record_outcome(CallRecorder *self, PyObject *namespace, PyObject *pending, PyObject *request, PyObject *name,
               PyObject *args, PyObject *kwargs, PyObject *result)
{
    CallReplayer *base = &self->base;
    PyObject *value = NULL, *response = NULL, *error = NULL, *raised = result == NULL ? fetch_raised() : NULL;
    int status = add_to(namespace, str_guard, -1) < 0 || add_to(base->session_dict, str__real_calls_running, -1) < 0
                 ? -1 : 0;
    if (status == 0 && raised != NULL) {
        error = PyObject_CallFunctionObjArgs(self->raised, raised, name, args, kwargs, Py_True, NULL);
    } else if (status == 0 && result == NULL) {
        PyErr_SetString(PyExc_SystemError, "call_recorder: the real call failed without an error");
    } else if (status == 0 && result != Py_None) {
        PyObject *level = attribute_in(namespace, str_level);
        response = level == NULL || is_zero(level) ? response_line(base, result) : NULL;
        PyErr_Clear();
        value = response != NULL ? new_reference(result)
                : PyObject_CallFunctionObjArgs(self->returned, result, name, args, kwargs, Py_True, NULL);
    } else if (status == 0) {
        value = new_reference(result);
    }
    /* Session.call's ``finally``: what is queued written, the guard down, the lock released, whatever is
     * raised (an error on the way replaces it) */
    Raised kept;
    if (status == 0) {
        raised_save(&kept);
        if (raised_restore(&kept, 0, flush_lines(self, pending, request, value != NULL ? response : NULL)) < 0) {
            Py_CLEAR(value);
            Py_CLEAR(error);
        }
    }
    Py_XDECREF(response);
    raised_save(&kept);
    if (raised_restore(&kept, 0, add_to(namespace, str_guard, -1)) < 0) {
        Py_CLEAR(value);
        Py_CLEAR(error);
    }
    status = release_lock(base->release, value != NULL || error != NULL ? 0 : -1);
    if (status < 0) {
        Py_CLEAR(value);
    } else if (error != NULL && error == raised) {  /* Session._real_call's bare ``raise`` */
        PyErr_Restore(new_reference((PyObject *)Py_TYPE(error)), new_reference(error), PyException_GetTraceback(error));
    } else if (error != NULL) {  /* its ``raise error`` (the wrapped one), chained as that chains it */
        PyErr_SetObject((PyObject *)Py_TYPE(error), error);
    }
    Py_XDECREF(error);
    Py_XDECREF(raised);
    return value;
}

/* Session.call of the usual recorded call: its value (new); NULL with what it raised; NULL without an error
 * where nothing was changed and Python decides. */
static PyObject *
record_whole(CallRecorder *self, PyObject *handle, PyObject *args, PyObject *kwargs)
{
    CallReplayer *base = &self->base;
    PyObject *target = Py_IS_TYPE(handle, base->handle_type) ? slot_at(handle, base->target_at) : NULL;
    if (target == NULL || target == base->missing || !PyTuple_CheckExact(args) || !PyDict_CheckExact(kwargs)
            || attribute_in(base->bypass_dict, str_closed) != Py_False || !keeps_name(base, handle))
        return NULL;
    PyObject *namespace = thread_namespace(base), *name = NULL, *description = NULL, *request = NULL;
    if (namespace != NULL && outside_in(namespace) && traffic_caller(self)
            && (name = handle_name(base, handle, 0)) != NULL && one_line_name(name)
            && (description = request_description(base, name, args, kwargs)) != NULL) {
        PyObject *parts[] = {description, text_newline};
        request = join_parts(parts, 2);
        Py_DECREF(description);
    }
    PyErr_Clear();
    if (request == NULL || call_lock(base->acquire) < 0) {
        Py_XDECREF(namespace);
        Py_XDECREF(name);
        Py_XDECREF(request);
        return NULL;  /* with the lock's error, if any: Session.call would meet it */
    }
    PyObject *pending = attribute_in(base->session_dict, str__pending), *value = NULL;
    if (pending != NULL && PyList_CheckExact(pending) && PyList_GET_SIZE(pending) == 0
            && is_zero(attribute_in(base->session_dict, str__real_calls_running))) {
        Py_INCREF(pending);
        Py_INCREF(target);
        /* the state Session.call and _real_call make the real call in */
        int made = add_to(namespace, str_guard, 2) < 0 ? 0 : PyList_Append(pending, request) < 0 ? 1
                   : add_to(base->session_dict, str__real_calls_running, 1) < 0 ? 2 : 3;
        if (made == 3) {
            PyObject *result = PyObject_Call(target, args, PyDict_GET_SIZE(kwargs) ? kwargs : NULL);
            value = record_outcome(self, namespace, pending, request, name, args, kwargs, result);
            Py_XDECREF(result);
        } else {  /* out of memory on the way: what was made is undone, the error stands */
            Raised kept;
            raised_save(&kept);
            if (made == 2)
                PyList_SetSlice(pending, 0, PyList_GET_SIZE(pending), NULL);
            if (made >= 1)
                add_to(namespace, str_guard, -2);
            raised_restore(&kept, -1, 0);
            release_lock(base->release, -1);
        }
        Py_DECREF(pending);
        Py_DECREF(target);
    } else if (release_lock(base->release, 0) == 0) {
        PyErr_Clear();
        Py_DECREF(namespace);
        Py_DECREF(name);
        Py_DECREF(request);
        return NULL;  /* something queued or a real call running: Python's */
    }
    Py_DECREF(namespace);
    Py_DECREF(name);
    Py_DECREF(request);
    if (value == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_SystemError, "call_recorder: a recorded call ended without a value or an error");
    return value;
}

static PyObject *
CallRecorder_vectorcall(CallRecorder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) == 3 && kwnames == NULL) {
        PyObject *value = record_whole(self, args[0], args[1], args[2]);
        if (value != NULL || PyErr_Occurred())
            return value;
    }
    return PyObject_Vectorcall(self->base.fallback, args, nargsf, kwnames);
}

#define CALL_RECORDER_OBJECTS(APPLY) APPLY(cache) APPLY(own) APPLY(returned) APPLY(raised) APPLY(flush)

static int
CallRecorder_traverse(CallRecorder *self, visitproc visit, void *arg)
{
    CALL_RECORDER_OBJECTS(LOOKUP_VISIT)
    return CallReplayer_traverse(&self->base, visit, arg);
}

static int
CallRecorder_clear(CallRecorder *self)
{
    CALL_RECORDER_OBJECTS(LOOKUP_CLEAR)
    return CallReplayer_clear(&self->base);
}

static void
CallRecorder_dealloc(CallRecorder *self)
{
    PyObject_GC_UnTrack(self);
    CallRecorder_clear(self);
    PyObject_GC_Del(self);
}

static PyTypeObject CallRecorderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "capturemock._speedups.CallRecorder",
    .tp_doc = "Session.call, settling the session's part of the usual recorded call in C (see call_recorder).",
    .tp_basicsize = sizeof(CallRecorder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(CallRecorder, base.vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_dealloc = (destructor)CallRecorder_dealloc,
    .tp_traverse = (traverseproc)CallRecorder_traverse,
    .tp_clear = (inquiry)CallRecorder_clear,
};

/* call_recorder(fallback, session, handle_type, missing, full_floats, cache, own): the session's ``call``. */
static PyObject *
call_recorder(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *fallback, *session, *handle_type, *missing, *cache, *own;
    int full_floats;
    if (!PyArg_ParseTuple(args, "OOO!OpO!O:call_recorder", &fallback, &session, &PyType_Type, &handle_type, &missing,
                          &full_floats, &PyDict_Type, &cache, &own) || make_call_names() < 0)
        return NULL;
    if ((text_response == NULL && (text_response = PyUnicode_InternFromString("->RET:")) == NULL)
            || (text_newline == NULL && (text_newline = PyUnicode_InternFromString("\n")) == NULL)
            || PyType_Ready(&CallRecorderType) < 0)  /* once; here, so that the module's init stays as it was */
        return NULL;
    CallRecorder *recorder = PyObject_GC_New(CallRecorder, &CallRecorderType);
    if (recorder == NULL)
        return NULL;
    memset((char *)recorder + sizeof(PyObject), 0, sizeof(CallRecorder) - sizeof(PyObject));
    recorder->base.vectorcall = (vectorcallfunc)CallRecorder_vectorcall;
    recorder->cache = new_reference(cache);
    recorder->own = new_reference(own);
    if (settler_fill(&recorder->base, fallback, session, handle_type, missing, full_floats, NULL) < 0
            || (recorder->returned = PyObject_GetAttrString(session, "real_call_returned")) == NULL
            || (recorder->raised = PyObject_GetAttrString(session, "real_call_raised")) == NULL
            || (recorder->flush = PyObject_GetAttrString(session, "flush")) == NULL) {
        Py_DECREF(recorder);
        return NULL;
    }
    PyObject_GC_Track(recorder);
    return (PyObject *)recorder;
}

/* -- the callees of a replay file's request lines (python/naming.py) ------------------------------ */

/* request_callees(text): for every line of text that starts '<', one or more '-', then 'PYT:' (what the
 * regex (?m)^<-+PYT: finds), the text after 'PYT:' up to the line's first '(' ('' if it has none), in order.
 * naming._request_callees_in_python is the reference; a replay's first instance asks (recorded_specials):
 * in Python it is ~4 k instructions a request line, ~10 M for a 10^3-item mock. */
static PyObject *
request_callees(PyObject *module, PyObject *text)
{
    (void)module;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "request_callees(text): expected a str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    PyObject *callees = PyList_New(0);
    if (callees == NULL)
        return NULL;
    for (Py_ssize_t line = 0; line < length;) {
        Py_ssize_t end = find_char(kind, data, line, length, '\n');
        if (end < 0)
            end = length;
        Py_ssize_t at = line + 1;
        if (PyUnicode_READ(kind, data, line) == '<') {
            while (at < end && PyUnicode_READ(kind, data, at) == '-')
                at++;
        }
        if (at > line + 1 && at + 4 <= end && PyUnicode_READ(kind, data, at) == 'P'
                && PyUnicode_READ(kind, data, at + 1) == 'Y' && PyUnicode_READ(kind, data, at + 2) == 'T'
                && PyUnicode_READ(kind, data, at + 3) == ':') {
            Py_ssize_t start = at + 4, paren = find_char(kind, data, start, end, '(');
            PyObject *callee = PyUnicode_Substring(text, start, paren < 0 ? start : paren);
            if (callee == NULL || PyList_Append(callees, callee) < 0) {
                Py_XDECREF(callee);
                Py_DECREF(callees);
                return NULL;
            }
            Py_DECREF(callee);
        }
        line = end + 1;
    }
    return callees;
}

/* -- the record file's shared lock (mockfile.MockWriter._open) ------------------------------------ */

#include <sys/file.h>  /* flock */

/* flock_shared(fd): what fcntl.flock(fd, fcntl.LOCK_SH) does (retried on EINTR unless a signal handler
 * raises; OSError on failure), here so that an intercepted process's start-up loads no fcntl (~0.4 M
 * instructions: finding and loading a shared object for one system call). */
static PyObject *
flock_shared(PyObject *module, PyObject *fd_object)
{
    (void)module;
    int fd = PyObject_AsFileDescriptor(fd_object), result, async_error = 0;
    if (fd < 0)
        return NULL;
    do {
        Py_BEGIN_ALLOW_THREADS
        result = flock(fd, LOCK_SH);
        Py_END_ALLOW_THREADS
    } while (result != 0 && errno == EINTR && !(async_error = PyErr_CheckSignals()));
    if (result != 0)
        return async_error ? NULL : PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
}

/* -- session 9: a response of several lines settled by the lookup (issue #16) -------------------------- */

/* Whether text[from:end] (from the newline ending a response's first line to its group's end) is sure to be
 * that response's value running on, as its Python twin mockfile.plain_continuation decides it: no '->' anywhere
 * and no line starting '<-' (so no item head, mockfile._ITEM_HEAD), and no escape mark (so the value reads
 * back as written). A replayed HTTP response is its status line and its ``--HEA:`` lines. */
static int
plain_continuation(int kind, const void *data, Py_ssize_t from, Py_ssize_t end)
{
    static const char escape[] = "|capturemock|";  /* mockfile.ESCAPE */
    const Py_ssize_t escape_length = (Py_ssize_t)(sizeof(escape) - 1);
    /* three searches by memchr (a recorded body's lines can be long), as Python's three str.find */
    for (Py_ssize_t at = find_char(kind, data, from + 1, end, '>'); at >= 0; at = find_char(kind, data, at + 1, end, '>')) {
        if (PyUnicode_READ(kind, data, at - 1) == '-')
            return 0;
    }
    for (Py_ssize_t at = find_char(kind, data, from + 1, end, '<'); at >= 0; at = find_char(kind, data, at + 1, end, '<')) {
        if (PyUnicode_READ(kind, data, at - 1) == '\n' && at + 1 < end && PyUnicode_READ(kind, data, at + 1) == '-')
            return 0;
    }
    for (Py_ssize_t at = find_char(kind, data, from, end, '|'); at >= 0 && at + escape_length <= end;
            at = find_char(kind, data, at + 1, end, '|')) {
        Py_ssize_t i = 1;
        while (i < escape_length && PyUnicode_READ(kind, data, at + i) == (Py_UCS4)escape[i])
            i++;
        if (i == escape_length)
            return 0;
    }
    return 1;
}

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "capturemock._speedups",
    .m_doc = "The optional C accelerator of the replay index's exact hits and of reading plain literal values\n"
             "(capturemock/replay.py and capturemock/literals.py are the references).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&LookupType) < 0 || PyType_Ready(&CallReplayerType) < 0)
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
