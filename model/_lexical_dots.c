/* The TF-IDF dots of /ask's lexical rescore (model/lexical.py, LexicalRows.dots_many) in C:
   an optional speed-up.

   In NumPy one question's dots with its ~20 candidate phrasings are ~15 calls (gather the
   candidates' terms, searchsorted, match, multiply, bincount), ~70 us in the serving loop;
   here one call walks each candidate's terms and looks each up in the question's sorted
   terms. Same arithmetic as the NumPy path, so the same bits: float32 products summed in
   float64, in term order, then rounded to float32.

   dots(q_terms, q_weights, terms, weights, starts, ends, out):
     q_terms   (m,) int64, sorted (a sentinel last: PackedQuery)   q_weights (m,) float32
     terms     int64, every stored phrasing's term hashes           weights  float32, alike
     starts, ends (n,) int64: candidate i's terms are terms[starts[i]:ends[i]]
     out       (n,) float32, written */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* A C-contiguous buffer of `itemsize`-byte items whose format is one of `formats` (NumPy
   writes int64 as "l" or "q" by platform), or NULL with the exception set. */
static int get_buffer(PyObject *object, Py_buffer *view, int writable, Py_ssize_t itemsize,
                      const char *formats, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(object, view, flags) != 0) return 0;
    const char *format = view->format ? view->format : "B";
    if (format[0] == '<' || format[0] == '=' || format[0] == '@') format++;
    if (view->itemsize != itemsize || format[0] == '\0' || format[1] != '\0' ||
        strchr(formats, format[0]) == NULL) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd-byte items of format %s, got '%s'",
                     name, itemsize, formats, view->format ? view->format : "B");
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

static double dot(const int64_t *q_terms, const float *q_weights, Py_ssize_t m,
                  const int64_t *terms, const float *weights, int64_t start, int64_t end) {
    double sum = 0.0;
    for (int64_t j = start; j < end; j++) {
        const int64_t term = terms[j];
        Py_ssize_t lo = 0, hi = m; /* first index whose term is >= term (searchsorted) */
        while (lo < hi) {
            const Py_ssize_t mid = lo + (hi - lo) / 2;
            if (q_terms[mid] < term)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < m && q_terms[lo] == term) sum += (double)(q_weights[lo] * weights[j]);
    }
    return sum;
}

static PyObject *py_dots(PyObject *self, PyObject *args) {
    PyObject *objects[7];
    if (!PyArg_ParseTuple(args, "OOOOOOO:dots", &objects[0], &objects[1], &objects[2],
                          &objects[3], &objects[4], &objects[5], &objects[6]))
        return NULL;
    static const char *names[7] = {"q_terms", "q_weights", "terms", "weights",
                                   "starts",  "ends",      "out"};
    Py_buffer views[7];
    int got = 0;
    PyObject *result = NULL;
    for (; got < 7; got++) {
        const int is_int = got == 0 || got == 2 || got == 4 || got == 5;
        if (!get_buffer(objects[got], &views[got], got == 6, is_int ? 8 : 4,
                        is_int ? "lq" : "f", names[got]))
            goto done;
    }
    const Py_ssize_t m = views[0].len / 8, stored = views[2].len / 8, n = views[4].len / 8;
    if (views[1].len / 4 != m || views[3].len / 4 != stored || views[5].len / 8 != n ||
        views[6].len / 4 != n) {
        PyErr_SetString(PyExc_ValueError,
                        "dots: q_terms/q_weights, terms/weights and starts/ends/out must "
                        "pair up in length");
        goto done;
    }
    const int64_t *starts = views[4].buf, *ends = views[5].buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (starts[i] < 0 || starts[i] > ends[i] || ends[i] > stored) {
            PyErr_Format(PyExc_ValueError, "dots: candidate %zd's terms [%lld, %lld) are "
                         "outside the %zd stored", i, (long long)starts[i],
                         (long long)ends[i], stored);
            goto done;
        }
    }
    float *out = views[6].buf;
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = (float)dot(views[0].buf, views[1].buf, m, views[2].buf, views[3].buf,
                            starts[i], ends[i]);
    result = Py_NewRef(Py_None);
done:
    while (got-- > 0) PyBuffer_Release(&views[got]);
    return result;
}

static PyMethodDef methods[] = {
    {"dots", py_dots, METH_VARARGS,
     "dots(q_terms, q_weights, terms, weights, starts, ends, out): one question's TF-IDF "
     "dots with candidate phrasings (layout: model/_lexical_dots.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_lexical_dots", "The lexical rescore's dots in C (model/lexical.py).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__lexical_dots(void) { return PyModule_Create(&module); }
