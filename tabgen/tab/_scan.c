/* The tab reader's hot loops in C: what tabgen/tab/parse.py does per character.
 *
 * parse.py stays the definition of what is read. This module repeats, for ASCII text, the steps
 * that touch every character, with exactly the same results (tests/test_parse_scan.py compares
 * every result with the pure-Python reader's, on real tabs and on hypothesis-generated text):
 *
 *   classify(lines, Line)  the stave lines and possible header lines of a text (_Reader.read's loop)
 *   string_line(text) (label, start, body, opened, length, other, words) or None      (_string_line)
 *   controls(text)    the number of control characters               (decode._looks_binary's count)
 *   segments(body)    ([(start, end), ...], text after the last bar line)  (_StaveReader.segments)
 *   stave(lines, notes, Column, Bar)                             (_StaveReader.bars_and_notes)
 *                     (bar bounds, reference line, trailing texts, bars, notes, dead notes,
 *                     what to report) or None
 *
 * stave() reads a stave whose bar lines line up through a shared grid and any other one bar by bar,
 * as bars_and_notes does, and hands back what to report for parse.py to word. It returns None
 * where parse.py reads on (no bar on most lines, fewer than 3 dashes); parse.py does not call it
 * for staves under a palm-mute line. A function given text that is not pure ASCII returns
 * NotImplemented and the Python reader reads it. The module is optional: built without a C
 * compiler, tabgen reads tabs by the same rules in Python, several times slower.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <structmember.h> /* T_OBJECT_EX: the kind of member a __slots__ entry is */

#define MAX_FRET 24
#define MAX_STRINGS 8
#define TECHNIQUES 15 /* "" h p b r / \ s t ~ g <> [] x (): the order of parse.SCAN_TECHNIQUES */
#define T_HARMONIC 11
#define T_ARTIFICIAL 12
#define T_DEAD 13
#define T_GHOST 14
#define CACHED_POSITIONS 256

static unsigned char is_space[128]; /* str.isspace() and the re module's \s, for ASCII */
static unsigned char is_stave[128]; /* parse._STAVE_CHARS: characters a stave line is made of */
static unsigned char prefix_code[128]; /* connecting technique before a fret: its code, else 0 */

static PyObject *s_position, *s_notes, *s_width, *s_columns, *s_repeat_start, *s_repeat_end, *s_body, *s_opened;
static PyObject *empty_tuple, *zero;

/* Single-note columns, shared (they are immutable): per note index, one per position in the bar.
 * At most MAX_STRINGS * TECHNIQUES * (MAX_FRET + 1) * CACHED_POSITIONS of them, as in parse.py. */
static PyObject **column_cache[MAX_STRINGS * TECHNIQUES * (MAX_FRET + 1)];
static PyTypeObject *cached_type; /* the Column type the cache holds */

/* (a, b) as a tuple of ints: Py_BuildValue parses its format on every call */
static PyObject *pair(Py_ssize_t a, Py_ssize_t b)
{
    PyObject *x = PyLong_FromSsize_t(a), *y = PyLong_FromSsize_t(b);
    PyObject *t = x && y ? PyTuple_New(2) : NULL;
    if (!t) {
        Py_XDECREF(x);
        Py_XDECREF(y);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, x);
    PyTuple_SET_ITEM(t, 1, y);
    return t;
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_letter(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }

/* `-` in it and no space: text after a line's last bar line that goes on as bar (parse._goes_on) */
static int goes_on(const unsigned char *s, Py_ssize_t n)
{
    int dash = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == ' ')
            return 0;
        if (s[i] == '-')
            dash = 1;
    }
    return dash;
}

/* Where a label's separator ends, or -1: ( ?-?:?\|+| ?:\|*|-) at p. Each optional character is
 * distinct from the next element, so taking every one that is there is the regex's only match. */
static Py_ssize_t separator(const unsigned char *s, Py_ssize_t n, Py_ssize_t p)
{
    Py_ssize_t q = p;
    if (q < n && s[q] == ' ')
        q++;
    if (q < n && s[q] == '-')
        q++;
    if (q < n && s[q] == ':')
        q++;
    if (q < n && s[q] == '|') {
        while (q < n && s[q] == '|')
            q++;
        return q;
    }
    q = p;
    if (q < n && s[q] == ' ')
        q++;
    if (q < n && s[q] == ':') {
        q++;
        while (q < n && s[q] == '|')
            q++;
        return q;
    }
    if (p < n && s[p] == '-')
        return p + 1;
    return -1;
}

/* The line as a stave line, as parse._py_string_line reads it: 1 with its fields (label, start,
 * body, opened, length, other, words) as new references, 0 when it is no stave line, -1 on error. */
static int line_fields(PyObject *text, PyObject **fields)
{
    const unsigned char *s = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);

    /* _HEAD: ( *)(?:([A-Ha-h][#b]?)( ?-?:?\|+| ?:\|*|-)|(\|+))? */
    Py_ssize_t i = 0;
    while (i < n && s[i] == ' ')
        i++;
    Py_ssize_t head = i, start = i, label_len = 0, sep_end = -1;
    int bars = 0;
    if (i < n && (s[i] | 32) >= 'a' && (s[i] | 32) <= 'h') {
        int accidental = i + 1 < n && (s[i + 1] == '#' || s[i + 1] == 'b');
        sep_end = separator(s, n, i + 1 + accidental);
        label_len = 1 + accidental;
        if (sep_end < 0 && accidental) {
            sep_end = separator(s, n, i + 1);
            label_len = 1;
        }
        if (sep_end >= 0)
            start = sep_end;
        else
            label_len = 0;
    }
    if (sep_end < 0 && i < n && s[i] == '|') {
        while (i < n && s[i] == '|')
            i++;
        start = i;
        bars = 1;
    }
    int labelled = label_len > 0;

    Py_ssize_t end = n;
    while (end > start && is_space[s[end - 1]])
        end--;
    const unsigned char *body = s + start;
    Py_ssize_t len = end - start;
    if (len < 3 || body[0] == ' ')
        return 0;
    if (!labelled && !bars && !(body[0] == '-' || is_digit(body[0]) || body[0] == '<' || body[0] == '['))
        return 0;
    /* One pass: dashes and the last bar line over the body; characters that are no stave
     * characters, spaces and letters of words over the core, taken at the last bar line when a
     * remark follows it. Dashes, the usual character, take the short way. */
    Py_ssize_t dashes = 0, last = -1, other = 0, spaces = 0, words = 0, letters = 0;
    Py_ssize_t other_at = 0, spaces_at = 0, words_at = 0;
    for (Py_ssize_t k = 0; k < len; k++) {
        unsigned char c = body[k];
        if (c == '-' || c == '|') {
            if (letters) { /* _WORD: [A-Za-z]{3,}, the letters of such words counted */
                words += letters >= 3 ? letters : 0;
                letters = 0;
            }
            if (c == '-') {
                dashes++;
            } else {
                last = k;
                other_at = other;
                spaces_at = spaces;
                words_at = words;
            }
            continue;
        }
        other += !is_stave[c];
        spaces += c == ' ';
        if (is_letter(c)) {
            letters++;
        } else if (letters) {
            words += letters >= 3 ? letters : 0;
            letters = 0;
        }
    }
    words += letters >= 3 ? letters : 0;
    if (dashes < 3 && !((labelled || bars) && body[len - 1] == '|'))
        return 0;
    Py_ssize_t core = len;
    if (last > 0 && last < len - 1 && !goes_on(body + last + 1, len - last - 1)) {
        core = last + 1; /* a remark after the last bar line is no stave text */
        other = other_at;
        spaces = spaces_at;
        words = words_at;
    }
    int spaced_word = 0;
    for (Py_ssize_t k = 0; spaces && k + 2 < core && !spaced_word; k++) /* _SPACED_WORD: \s[A-Za-z]{2} */
        spaced_word = is_space[body[k]] && is_letter(body[k + 1]) && is_letter(body[k + 2]);
    if (other * 5 > core * 2 || spaces * 5 > core)
        return 0;
    if (spaces && spaced_word)
        return 0; /* prose with dashes */
    int opened = bars || (labelled && s[sep_end - 1] == '|');

    fields[0] = labelled ? PyUnicode_FromStringAndSize((const char *)s + head, label_len) : Py_NewRef(Py_None);
    fields[1] = PyLong_FromSsize_t(start);
    fields[2] = PyUnicode_Substring(text, start, end);
    fields[3] = Py_NewRef(opened ? Py_True : Py_False);
    fields[4] = PyLong_FromSsize_t(core);
    fields[5] = PyLong_FromSsize_t(other);
    fields[6] = PyLong_FromSsize_t(words);
    for (int k = 0; k < 7; k++) {
        if (!fields[k]) {
            for (int m = 0; m < 7; m++)
                Py_CLEAR(fields[m]);
            return -1;
        }
    }
    return 1;
}

static PyObject *string_line(PyObject *module, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "string_line() takes a str");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *fields[7] = {NULL};
    int found = line_fields(text, fields);
    if (found <= 0)
        return found < 0 ? NULL : Py_NewRef(Py_None);
    PyObject *line = PyTuple_New(7);
    for (int k = 0; k < 7; k++) {
        if (line)
            PyTuple_SET_ITEM(line, k, fields[k]);
        else
            Py_DECREF(fields[k]);
    }
    return line;
}

static Py_ssize_t cut(const unsigned char *s, Py_ssize_t n, Py_ssize_t *bounds, Py_ssize_t *rest);
static PyObject *bounds_list(const Py_ssize_t *bounds, Py_ssize_t count);

static PyObject *segments(PyObject *module, PyObject *body)
{
    if (!PyUnicode_Check(body)) {
        PyErr_SetString(PyExc_TypeError, "segments() takes a str");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(body))
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t n = PyUnicode_GET_LENGTH(body), rest;
    Py_ssize_t *bounds = PyMem_Malloc((n / 2 + 2) * 2 * sizeof(Py_ssize_t)); /* as many bars as stave() allows */
    if (!bounds)
        return PyErr_NoMemory();
    Py_ssize_t count = cut(PyUnicode_1BYTE_DATA(body), n, bounds, &rest);
    PyObject *segs = bounds_list(bounds, count);
    PyMem_Free(bounds);
    PyObject *after = segs ? PyUnicode_Substring(body, rest, n) : NULL;
    if (!after) {
        Py_XDECREF(segs);
        return NULL;
    }
    PyObject *result = PyTuple_Pack(2, segs, after);
    Py_DECREF(segs);
    Py_DECREF(after);
    return result;
}

/* A frozen dataclass instance with its fields set directly, as parse._column and parse._bar do:
 * the reader builds values that satisfy the checks by construction. */
static PyObject *make(PyTypeObject *type, int count, PyObject **names, PyObject **values)
{
    PyObject *obj = PyBaseObject_Type.tp_new(type, empty_tuple, NULL);
    if (!obj)
        return NULL;
    for (int k = 0; k < count; k++) {
        /* object.__setattr__: the slot's descriptor, not the frozen class's __setattr__ */
        if (PyObject_GenericSetAttr(obj, names[k], values[k]) < 0) {
            Py_DECREF(obj);
            return NULL;
        }
    }
    return obj;
}

static PyObject *make_column(PyTypeObject *type, Py_ssize_t position, PyObject *notes)
{
    PyObject *pos = PyLong_FromSsize_t(position);
    if (!pos)
        return NULL;
    PyObject *names[2] = {s_position, s_notes}, *values[2] = {pos, notes};
    PyObject *column = make(type, 2, names, values);
    Py_DECREF(pos);
    return column;
}

/* Where a line's notes go: the usual stave puts a note at its offset in the line (all lines share
 * their bar lines); the general stave walks each line's own bars, as parse.py's notes() does. */
typedef struct {
    short *grid;
    int strings, string;
    int general;
    Py_ssize_t end;                  /* usual: nothing at or after it is read */
    Py_ssize_t nbars, bar;           /* general: the bar the reading is in */
    const Py_ssize_t *starts, *ends; /* general: this line's bars */
    const Py_ssize_t *base;          /* general: each bar's first cell in the grid */
    Py_ssize_t count, dead;          /* notes read, dead notes among them */
} placer;

/* A note onto the grid (note index per cell and string); 1 when the line's reading stops there. */
static int put(placer *pl, Py_ssize_t at, int technique, int fret)
{
    Py_ssize_t cell = at;
    if (!pl->general) {
        if (at >= pl->end)
            return 1;
    } else {
        Py_ssize_t j = pl->bar;
        if (at >= pl->ends[j]) {
            while (j < pl->nbars && at >= pl->ends[j])
                j++;
            if (j == pl->nbars)
                return 1;
            pl->bar = j;
        }
        if (at < pl->starts[j])
            return 0; /* on a repeat mark: not a note */
        cell = pl->base[j] + at - pl->starts[j];
    }
    pl->grid[cell * pl->strings + pl->string - 1] =
        (short)(((pl->string - 1) * TECHNIQUES + technique) * (MAX_FRET + 1) + fret);
    pl->count++;
    pl->dead += technique == T_DEAD;
    return 0;
}

static int report(PyObject *reported, Py_ssize_t line, Py_ssize_t at, PyObject *what)
{
    PyObject *entry = what ? Py_BuildValue("(nnN)", line, at, what) : NULL;
    if (!entry || PyList_Append(reported, entry) < 0) {
        Py_XDECREF(entry);
        return -1;
    }
    Py_DECREF(entry);
    return 0;
}

/* One line's notes onto the grid, token by token as parse.py reads them; each token read with a
 * diagnostic goes into `reported` as (line, offset, token), and parse.py words the message.
 * 0, or -1 on error. */
static int scan_line(const unsigned char *s, Py_ssize_t n, placer *pl, Py_ssize_t line, PyObject *reported)
{
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        Py_ssize_t start = i, stop; /* the token */
        if (is_digit(c) || (prefix_code[c] && i + 1 < n && is_digit(s[i + 1]))) {
            /* [hpbr/\\stg]?\d+[~g]? and the module's one rule for digit runs (parse.split_digits) */
            int prefix = is_digit(c) ? 0 : prefix_code[c];
            Py_ssize_t d = i + (prefix != 0), e = d;
            while (e < n && is_digit(s[e]))
                e++;
            int suffix = e < n && (s[e] == '~' || s[e] == 'g') ? (s[e] == '~' ? 9 : 10) : 0;
            stop = e + (suffix != 0);
            Py_ssize_t len = e - d;
            int first = s[d] - '0', pair = len >= 2 ? first * 10 + (s[d + 1] - '0') : 0;
            if (len == 1 || (len == 2 && first && pair <= MAX_FRET)) {
                if (put(pl, d, prefix ? prefix : suffix, len == 1 ? first : pair))
                    return 0;
                i = stop;
                continue;
            }
            if (report(reported, line, start, PyUnicode_FromStringAndSize((const char *)s + start, stop - start)) < 0)
                return -1;
            int repeated = 1, pairs = len % 2 == 0;
            for (Py_ssize_t k = d; k < e; k++)
                repeated &= s[k] == s[d];
            for (Py_ssize_t k = d; pairs && k < e; k += 2) {
                int value = (s[k] - '0') * 10 + (s[k + 1] - '0');
                pairs = s[k] != '0' && value >= 10 && value <= MAX_FRET;
            }
            int step = len > 2 && !repeated && pairs ? 2 : 1;
            for (Py_ssize_t k = d; k < e; k += step) {
                int fret = step == 2 ? (s[k] - '0') * 10 + (s[k + 1] - '0') : s[k] - '0';
                int technique = k == d ? prefix : (k + step >= e ? suffix : 0);
                if (put(pl, k, technique, fret))
                    return 0;
            }
            i = stop;
        } else if (c == '<' || c == '[' || c == '(') {
            /* <\d+>, \[\d+\] and \(\d+\) */
            unsigned char close = c == '<' ? '>' : c == '[' ? ']' : ')';
            Py_ssize_t e = i + 1;
            long value = 0;
            while (e < n && is_digit(s[e])) {
                if (value <= MAX_FRET)
                    value = value * 10 + (s[e] - '0');
                e++;
            }
            if (e == i + 1 || e >= n || s[e] != close) {
                i++;
                continue; /* no token starts here */
            }
            i = e + 1;
            if (value > MAX_FRET) { /* beyond the last fret: skipped, with a diagnostic */
                if (report(reported, line, start, PyUnicode_FromStringAndSize((const char *)s + start, i - start)) < 0)
                    return -1;
                continue;
            }
            if (put(pl, start + 1, c == '<' ? T_HARMONIC : c == '[' ? T_ARTIFICIAL : T_GHOST, (int)value))
                return 0;
        } else if (c == 'x' || c == 'X') {
            if (put(pl, i, T_DEAD, 0))
                return 0;
            i++;
        } else {
            i++;
        }
    }
    return 0;
}

/* Bar bounds of one line as segments() finds them: pairs into `bounds`, the number of bars, and
 * where the text after the last bar line starts (n when it is bar too or there is none). */
static Py_ssize_t cut(const unsigned char *s, Py_ssize_t n, Py_ssize_t *bounds, Py_ssize_t *rest)
{
    Py_ssize_t count = 0, pos = 0;
    int any_bar = memchr(s, '|', n) != NULL;
    for (;;) {
        const unsigned char *bar = memchr(s + pos, '|', n - pos);
        Py_ssize_t stop = bar ? bar - s : n, len = stop - pos;
        if (!bar) {
            if (len && (!any_bar || goes_on(s + pos, len))) {
                bounds[2 * count] = pos;
                bounds[2 * count + 1] = stop;
                count++;
                *rest = n;
            } else {
                *rest = pos;
            }
            return count;
        }
        int blank = 1;
        for (Py_ssize_t k = pos; k < stop && blank; k++)
            blank = is_space[s[k]];
        if (len && !blank) {
            bounds[2 * count] = pos;
            bounds[2 * count + 1] = stop;
            count++;
        }
        pos = stop + 1;
    }
}

/* A repeat mark beside a bar line (a stave with none, whose bar lines line up, is read the short way);
   the dashes are added to *dashes */
static int has_marks(const unsigned char *s, Py_ssize_t n, Py_ssize_t *dashes)
{
    if (n && (s[0] == ':' || s[0] == '*' || s[0] == 'o'))
        return 1;
    for (Py_ssize_t k = 0; k < n; k++) {
        unsigned char a = s[k], b = k + 1 < n ? s[k + 1] : 0;
        *dashes += a == '-';
        if ((b == '|' && (a == ':' || a == '*' || a == 'o')) || (a == '|' && (b == ':' || b == '*' || b == 'o')))
            return 1;
    }
    return 0;
}

static PyObject *bounds_list(const Py_ssize_t *bounds, Py_ssize_t count)
{
    PyObject *list = PyList_New(count);
    if (!list)
        return NULL;
    for (Py_ssize_t j = 0; j < count; j++) {
        PyObject *bar = pair(bounds[2 * j], bounds[2 * j + 1]);
        if (!bar) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, j, bar);
    }
    return list;
}

/* The stave's bars from its notes on the grid: bar j's cells start at base[j]; a bar of width 0 or
 * less is no bar. One Column per position with notes. */
static PyObject *build_bars(Py_ssize_t nbars, const Py_ssize_t *width, const Py_ssize_t *base, const int *opens,
                            const int *closes, const short *grid, Py_ssize_t strings, PyObject *table,
                            PyTypeObject *column_type, PyTypeObject *bar_type)
{
    PyObject *bars = PyList_New(0), *row = NULL, *chord[MAX_STRINGS];
    if (!bars)
        return NULL;
    for (Py_ssize_t j = 0; j < nbars; j++) {
        if (width[j] <= 0)
            continue;
        row = PyList_New(0);
        if (!row)
            goto fail;
        for (Py_ssize_t p = 0; p < width[j]; p++) {
            const short *cell = grid + (base[j] + p) * strings;
            int found = 0, index = -1;
            for (Py_ssize_t k = 0; k < strings; k++)
                if (cell[k] >= 0) {
                    index = cell[k];
                    chord[found++] = PyList_GET_ITEM(table, index);
                }
            if (!found)
                continue;
            PyObject *column;
            if (found == 1 && p < CACHED_POSITIONS && column_type == cached_type) {
                /* single-note columns are shared: they are immutable */
                PyObject **slots = column_cache[index];
                if (!slots) {
                    slots = column_cache[index] = PyMem_Calloc(CACHED_POSITIONS, sizeof(PyObject *));
                    if (!slots) {
                        PyErr_NoMemory();
                        goto fail;
                    }
                }
                column = slots[p];
                if (column) {
                    Py_INCREF(column);
                } else {
                    PyObject *notes = PyTuple_Pack(1, chord[0]);
                    column = notes ? make_column(column_type, p, notes) : NULL;
                    Py_XDECREF(notes);
                    slots[p] = Py_XNewRef(column);
                }
            } else {
                PyObject *notes = PyTuple_New(found);
                if (!notes)
                    goto fail;
                for (int k = 0; k < found; k++)
                    PyTuple_SET_ITEM(notes, k, Py_NewRef(chord[k]));
                column = make_column(column_type, p, notes);
                Py_DECREF(notes);
            }
            if (!column)
                goto fail;
            int appended = PyList_Append(row, column);
            Py_DECREF(column);
            if (appended < 0)
                goto fail;
        }
        PyObject *columns = PyList_AsTuple(row);
        Py_CLEAR(row);
        PyObject *w = columns ? PyLong_FromSsize_t(width[j]) : NULL;
        PyObject *end = w ? PyLong_FromLong(closes[j] ? 2 : 0) : NULL;
        if (!end) {
            Py_XDECREF(columns);
            Py_XDECREF(w);
            goto fail;
        }
        PyObject *names[4] = {s_width, s_columns, s_repeat_start, s_repeat_end};
        PyObject *values[4] = {w, columns, opens[j] ? Py_True : Py_False, end};
        PyObject *bar = make(bar_type, 4, names, values);
        Py_DECREF(w);
        Py_DECREF(end);
        Py_DECREF(columns);
        if (!bar)
            goto fail;
        int appended = PyList_Append(bars, bar);
        Py_DECREF(bar);
        if (appended < 0)
            goto fail;
    }
    return bars;
fail:
    Py_XDECREF(row);
    Py_DECREF(bars);
    return NULL;
}

static int is_mark(unsigned char c) { return c == ':' || c == '*' || c == 'o'; }

/* parse.py's bar_layout for every bar: each line's bar bounds with repeat marks taken off (into
 * starts and ends, `nbars` per line), each bar's width and marks; lengths that differ from the usual
 * one are reported as (line, offset, (bar, difference)). 0, or -1 on error. */
static int layout(PyObject **bodies, Py_ssize_t strings, Py_ssize_t nbars, const Py_ssize_t *spans, long opened,
                  Py_ssize_t *starts, Py_ssize_t *ends, Py_ssize_t *width, int *opens, int *closes,
                  PyObject *reported)
{
    Py_ssize_t lengths[MAX_STRINGS];
    for (Py_ssize_t j = 0; j < nbars; j++) {
        int all_open = 1, all_close = 1, any_open = 0, any_close = 0;
        for (Py_ssize_t k = 0; k < strings; k++) {
            PyObject *body = bodies[k];
            const unsigned char *s = PyUnicode_1BYTE_DATA(body);
            Py_ssize_t n = PyUnicode_GET_LENGTH(body), a = spans[(k * nbars + j) * 2], b = spans[(k * nbars + j) * 2 + 1];
            int open = b > a && is_mark(s[a]) && ((a > 0 && s[a - 1] == '|') || (a == 0 && (opened >> k) & 1));
            int close = b > a && is_mark(s[b - 1]) && b < n && s[b] == '|';
            all_open &= open;
            all_close &= close;
            any_open |= open;
            any_close |= close;
            starts[k * nbars + j] = a;
            ends[k * nbars + j] = b;
        }
        /* marks on every line are not part of the bar; marks on some lines stand where a dash would */
        Py_ssize_t longest = PY_SSIZE_T_MIN, shortest = PY_SSIZE_T_MAX;
        for (Py_ssize_t k = 0; k < strings; k++) {
            starts[k * nbars + j] += all_open;
            ends[k * nbars + j] -= all_close;
            lengths[k] = ends[k * nbars + j] - starts[k * nbars + j];
            longest = lengths[k] > longest ? lengths[k] : longest;
            shortest = lengths[k] < shortest ? lengths[k] : shortest;
        }
        width[j] = longest;
        opens[j] = any_open;
        closes[j] = any_close;
        if (longest > 0 && shortest != longest) {
            /* the usual length: the most common, the first line's of those when tied */
            Py_ssize_t usual = lengths[0], best = 0;
            for (Py_ssize_t k = 0; k < strings; k++) {
                Py_ssize_t same = 0;
                for (Py_ssize_t m = 0; m < strings; m++)
                    same += lengths[m] == lengths[k];
                if (same > best) {
                    best = same;
                    usual = lengths[k];
                }
            }
            for (Py_ssize_t k = 0; k < strings; k++)
                if (lengths[k] != usual && report(reported, k, starts[k * nbars + j],
                                                  Py_BuildValue("(nn)", j, lengths[k] - usual)) < 0)
                    return -1;
        }
    }
    return 0;
}

/* A stave read at once, as parse.py's _StaveReader.read reads it without palm mutes: (bar bounds of
 * the reference line, its index, text after each line's last bar line, bars, notes read, dead notes
 * among them, what to report in order), or None when parse.py must read it (no bar on most lines,
 * fewer than 3 dashes). What to report: (line, -1, None) for a line whose bar lines do not line up,
 * (line, offset, (bar, difference)) for a bar longer or shorter on a line, (line, offset, token) for a
 * token read with a diagnostic. */
static PyObject *stave_of(PyObject **bodies, Py_ssize_t strings, long opened, PyObject *table,
                          PyTypeObject *column_type, PyTypeObject *bar_type);

static PyObject *stave(PyObject *module, PyObject *args)
{
    PyObject *lines, *table, *bodies[MAX_STRINGS];
    PyTypeObject *column_type, *bar_type;
    long opened = 0;
    if (!PyArg_ParseTuple(args, "O!O!O!O!", &PyList_Type, &lines, &PyList_Type, &table, &PyType_Type, &column_type,
                          &PyType_Type, &bar_type))
        return NULL;
    Py_ssize_t strings = PyList_GET_SIZE(lines);
    if (strings < 1 || strings > MAX_STRINGS || PyList_GET_SIZE(table) != MAX_STRINGS * TECHNIQUES * (MAX_FRET + 1)) {
        PyErr_SetString(PyExc_ValueError, "stave(): bad arguments");
        return NULL;
    }
    if (!cached_type)
        cached_type = (PyTypeObject *)Py_NewRef(column_type);
    for (Py_ssize_t k = 0; k < strings; k++) { /* parse._Line: its body, and whether a bar line opens it */
        PyObject *line = PyList_GET_ITEM(lines, k), *open = PyObject_GetAttr(line, s_opened);
        int is_open = open ? PyObject_IsTrue(open) : -1;
        Py_XDECREF(open);
        bodies[k] = PyObject_GetAttr(line, s_body);
        if (is_open < 0 || !bodies[k]) {
            for (Py_ssize_t m = 0; m <= k; m++)
                Py_XDECREF(bodies[m]);
            return NULL;
        }
        opened |= (long)is_open << k;
    }
    PyObject *result = stave_of(bodies, strings, opened, table, column_type, bar_type);
    for (Py_ssize_t k = 0; k < strings; k++)
        Py_DECREF(bodies[k]);
    return result;
}

static PyObject *stave_of(PyObject **bodies, Py_ssize_t strings, long opened, PyObject *table,
                          PyTypeObject *column_type, PyTypeObject *bar_type)
{
    Py_ssize_t longest = 0;
    for (Py_ssize_t k = 0; k < strings; k++) {
        PyObject *body = bodies[k];
        if (!PyUnicode_Check(body) || !PyUnicode_IS_ASCII(body))
            Py_RETURN_NOTIMPLEMENTED;
        if (PyUnicode_GET_LENGTH(body) > longest)
            longest = PyUnicode_GET_LENGTH(body);
    }
    Py_ssize_t most = longest / 2 + 2; /* bars on a line: each holds a character and a bar line ends it */
    Py_ssize_t *cuts = PyMem_Malloc(strings * most * 2 * sizeof(Py_ssize_t));
    Py_ssize_t *spans = PyMem_Malloc(strings * most * 2 * sizeof(Py_ssize_t));
    Py_ssize_t *bounds = PyMem_Malloc((strings * 2 + 2) * most * sizeof(Py_ssize_t)); /* starts, ends, width, base */
    int *flags = PyMem_Malloc(2 * most * sizeof(int));                                 /* opens, closes */
    short *grid = NULL;
    PyObject *reported = NULL, *result = NULL;
    Py_ssize_t counts[MAX_STRINGS], rests[MAX_STRINGS];
    if (!cuts || !spans || !bounds || !flags) {
        PyErr_NoMemory();
        goto done;
    }
    int marks = 0;
    Py_ssize_t dashes = 0;
    for (Py_ssize_t k = 0; k < strings; k++) {
        PyObject *body = bodies[k];
        const unsigned char *s = PyUnicode_1BYTE_DATA(body);
        Py_ssize_t n = PyUnicode_GET_LENGTH(body);
        marks |= has_marks(s, n, &dashes);
        counts[k] = cut(s, n, cuts + k * most * 2, &rests[k]);
    }
    if (dashes < 3)
        goto not_here;
    /* the most common number of bars, the larger when tied; the first line with it is the reference */
    Py_ssize_t nbars = -1, best = 0, ref = 0;
    for (Py_ssize_t k = 0; k < strings; k++) {
        Py_ssize_t same = 0;
        for (Py_ssize_t m = 0; m < strings; m++)
            same += counts[m] == counts[k];
        if (same > best || (same == best && counts[k] > nbars)) {
            best = same;
            nbars = counts[k];
        }
    }
    if (nbars <= 0)
        goto not_here;
    while (counts[ref] != nbars)
        ref++;
    reported = PyList_New(0);
    if (!reported)
        goto done;
    /* each line's bars; a line with another number of bars takes the reference line's */
    int aligned = !marks;
    for (Py_ssize_t k = 0; k < strings; k++) {
        const Py_ssize_t *own = cuts + (counts[k] == nbars ? k : ref) * most * 2;
        Py_ssize_t n = PyUnicode_GET_LENGTH(bodies[k]);
        for (Py_ssize_t j = 0; j < 2 * nbars; j++)
            spans[k * nbars * 2 + j] = j % 2 && counts[k] != nbars && own[j] > n ? n : own[j];
        if (counts[k] != nbars && report(reported, k, -1, Py_NewRef(Py_None)) < 0)
            goto done;
        aligned &= !memcmp(spans + k * nbars * 2, spans, 2 * nbars * sizeof(Py_ssize_t));
    }
    Py_ssize_t *starts = bounds, *ends = bounds + strings * most, *width = ends + strings * most, *base = width + most;
    int *opens = flags, *closes = flags + most;
    Py_ssize_t cells;
    placer pl = {0};
    if (aligned) {
        /* the usual stave: every line's notes at their offsets, cut into the shared bars */
        for (Py_ssize_t j = 0; j < nbars; j++) {
            base[j] = spans[2 * j];
            width[j] = spans[2 * j + 1] - spans[2 * j];
            opens[j] = closes[j] = 0;
        }
        pl.end = cells = spans[2 * nbars - 1]; /* nothing after the last bar line is read */
    } else {
        if (layout(bodies, strings, nbars, spans, opened, starts, ends, width, opens, closes, reported) < 0)
            goto done;
        cells = 0;
        for (Py_ssize_t j = 0; j < nbars; j++) {
            base[j] = cells;
            cells += width[j] > 0 ? width[j] : 0;
        }
        pl.general = 1;
        pl.nbars = nbars;
        pl.base = base;
    }
    grid = PyMem_Malloc((cells + 1) * strings * sizeof(short));
    if (!grid) {
        PyErr_NoMemory();
        goto done;
    }
    memset(grid, 0xff, (cells + 1) * strings * sizeof(short)); /* -1: no note */
    pl.grid = grid;
    pl.strings = (int)strings;
    for (Py_ssize_t k = 0; k < strings; k++) {
        PyObject *body = bodies[k];
        pl.string = (int)k + 1;
        pl.bar = 0;
        pl.starts = starts + k * nbars;
        pl.ends = ends + k * nbars;
        if (scan_line(PyUnicode_1BYTE_DATA(body), PyUnicode_GET_LENGTH(body), &pl, k, reported) < 0)
            goto done;
    }
    PyObject *segs = bounds_list(cuts + ref * most * 2, nbars);
    PyObject *trailing = segs ? PyList_New(strings) : NULL;
    if (!trailing) {
        Py_XDECREF(segs);
        goto done;
    }
    for (Py_ssize_t k = 0; k < strings; k++) {
        PyObject *body = bodies[k];
        PyObject *rest = PyUnicode_Substring(body, rests[k], PyUnicode_GET_LENGTH(body));
        if (!rest) {
            Py_DECREF(segs);
            Py_DECREF(trailing);
            goto done;
        }
        PyList_SET_ITEM(trailing, k, rest);
    }
    PyObject *bars = build_bars(nbars, width, base, opens, closes, grid, strings, table, column_type, bar_type);
    if (!bars) {
        Py_DECREF(segs);
        Py_DECREF(trailing);
        goto done;
    }
    result = Py_BuildValue("(NnNNnnO)", segs, ref, trailing, bars, pl.count, pl.dead, reported);
    goto done;
not_here:
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(reported);
    PyMem_Free(grid);
    PyMem_Free(flags);
    PyMem_Free(bounds);
    PyMem_Free(spans);
    PyMem_Free(cuts);
    return result;
}

/* Offsets of parse._Line's slots, in the order of its fields; found once per class. */
static const char *line_names[8] = {"index", "label", "start", "body", "opened", "length", "other", "words"};
static Py_ssize_t line_offsets[8];
static PyTypeObject *line_type;

static int find_line_slots(PyTypeObject *type)
{
    if (type == line_type)
        return 0;
    for (int k = 0; k < 8; k++) {
        PyObject *slot = PyObject_GetAttrString((PyObject *)type, line_names[k]);
        if (!slot)
            return -1;
        int is_member = Py_IS_TYPE(slot, &PyMemberDescr_Type) &&
                        ((PyMemberDescrObject *)slot)->d_member->type == T_OBJECT_EX;
        if (is_member)
            line_offsets[k] = ((PyMemberDescrObject *)slot)->d_member->offset;
        Py_DECREF(slot);
        if (!is_member) {
            PyErr_Format(PyExc_TypeError, "classify(): %s.%s is no slot", type->tp_name, line_names[k]);
            return -1;
        }
    }
    Py_XSETREF(line_type, (PyTypeObject *)Py_NewRef(type));
    return 0;
}

/* A parse._Line built from its fields (references stolen), its slots filled directly. */
static PyObject *make_line(PyTypeObject *type, Py_ssize_t index, PyObject **fields)
{
    PyObject *number = PyLong_FromSsize_t(index);
    PyObject *line = number ? PyBaseObject_Type.tp_new(type, empty_tuple, NULL) : NULL;
    if (!line) {
        Py_XDECREF(number);
        for (int k = 0; k < 7; k++)
            Py_DECREF(fields[k]);
        return NULL;
    }
    *(PyObject **)((char *)line + line_offsets[0]) = number;
    for (int k = 0; k < 7; k++)
        *(PyObject **)((char *)line + line_offsets[k + 1]) = fields[k];
    return line;
}

/* The lines worth a look, in order: a Line for a stave line, the line's index (an int) for another
 * line with a ':' or '/' (a header line, perhaps), (index,) for a line with a '-' that is not ASCII
 * (the Python reader looks at it). Lines left out are neither. */
static PyObject *classify(PyObject *module, PyObject *args)
{
    PyObject *lines;
    PyTypeObject *type;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &lines, &PyType_Type, &type) || find_line_slots(type) < 0)
        return NULL;
    PyObject *events = PyList_New(0);
    if (!events)
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(lines);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *text = PyList_GET_ITEM(lines, i), *event;
        if (!PyUnicode_Check(text)) {
            Py_DECREF(events);
            PyErr_SetString(PyExc_TypeError, "classify() takes a list of str");
            return NULL;
        }
        Py_ssize_t n = PyUnicode_GET_LENGTH(text);
        if (!n)
            continue;
        int dash, header, found = 0;
        PyObject *fields[7] = {NULL};
        if (PyUnicode_IS_ASCII(text)) {
            const unsigned char *s = PyUnicode_1BYTE_DATA(text);
            dash = memchr(s, '-', n) != NULL;
            header = memchr(s, ':', n) != NULL || memchr(s, '/', n) != NULL;
            if (dash)
                found = line_fields(text, fields);
        } else {
            dash = PyUnicode_FindChar(text, '-', 0, n, 1) >= 0;
            header = PyUnicode_FindChar(text, ':', 0, n, 1) >= 0 || PyUnicode_FindChar(text, '/', 0, n, 1) >= 0;
            found = dash ? 2 : 0;
        }
        if (found < 0) {
            Py_DECREF(events);
            return NULL;
        }
        if (found == 1)
            event = make_line(type, i, fields);
        else if (found == 2)
            event = Py_BuildValue("(n)", i);
        else if (header)
            event = PyLong_FromSsize_t(i);
        else
            continue;
        if (!event || PyList_Append(events, event) < 0) {
            Py_XDECREF(event);
            Py_DECREF(events);
            return NULL;
        }
        Py_DECREF(event);
    }
    return events;
}

/* Control characters in a text (decode._looks_binary's count): \0-\b, \v, \x0e-\x1f and DEL,
 * in one pass over the text's characters, whatever their width. */
static PyObject *controls(PyObject *module, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "controls() takes a str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), count = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, k);
        count += c < 32 ? !(c == '\t' || c == '\n' || c == '\f' || c == '\r') : c == 127;
    }
    return PyLong_FromSsize_t(count);
}

static PyMethodDef methods[] = {
    {"string_line", string_line, METH_O, "A line as a stave line: (label, start, body, opened, length, other, words) or None."},
    {"segments", segments, METH_O, "A stave line body's bars as (start, end) pairs, and the text after them."},
    {"stave", stave, METH_VARARGS, "The usual stave's (segments, trailing texts, bars, notes read), or None."},
    {"controls", controls, METH_O, "The number of control characters in a text (not tab, newline, form feed, CR)."},
    {"classify", classify, METH_VARARGS, "The stave lines (as Line objects) and possible header lines of a text."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_scan", "The tab reader's hot loops in C.", -1,
                                        methods};

PyMODINIT_FUNC PyInit__scan(void)
{
    const char *spaces = "\t\n\v\f\r\x1c\x1d\x1e\x1f ";
    for (const char *c = spaces; *c; c++)
        is_space[(unsigned char)*c] = 1;
    for (const char *c = "-|0123456789~=<>[]()/\\hpbrstxX*:"; *c; c++)
        is_stave[(unsigned char)*c] = 1;
    /* codes as in parse.SCAN_TECHNIQUES: "" h p b r / \ s t ~ g <> [] x () */
    const char *prefixes = "hpbr/\\st";
    for (int k = 0; prefixes[k]; k++)
        prefix_code[(unsigned char)prefixes[k]] = (unsigned char)(k + 1);
    prefix_code['g'] = 10; /* a grace note written before its digits (g0h1) */

    s_position = PyUnicode_InternFromString("position");
    s_notes = PyUnicode_InternFromString("notes");
    s_width = PyUnicode_InternFromString("width");
    s_columns = PyUnicode_InternFromString("columns");
    s_repeat_start = PyUnicode_InternFromString("repeat_start");
    s_repeat_end = PyUnicode_InternFromString("repeat_end");
    s_body = PyUnicode_InternFromString("body");
    s_opened = PyUnicode_InternFromString("opened");
    empty_tuple = PyTuple_New(0);
    zero = PyLong_FromLong(0);
    if (!s_position || !s_notes || !s_width || !s_columns || !s_repeat_start || !s_repeat_end || !s_body || !s_opened || !empty_tuple ||
        !zero)
        return NULL;
    return PyModule_Create(&module_def);
}
