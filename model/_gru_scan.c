/* The GRU recurrence of model/fast_path.py (NumpyGru._scan) in C: an optional speed-up.

   In NumPy each time step is ~11 calls on 128-256 floats, and a call's fixed cost (~1.3 us
   in the serving loop) is most of the step: one /ask question's scan took ~290 us on the
   2-core machines, this ~50 us. The layout and the arithmetic are the NumPy scan's:

   gates  (T, R, B, 3H)    input gates in step order (r, z, n; r and z rows pre-halved)
   w_hh   (R, H + 1, 3H)   state -> gates, bias_hh as the last row (r, z columns pre-halved)
   states (T + 1, R, B, H + 1), written in place: step t's state of row r, text b at
          [t + 1, r, b, :H]; the caller sets [..., H] = 1 and [0] = 0, and a text that has
          finished (b >= active[t]) keeps the zeros it had.
   active (T,) int64       texts still running at step t (a prefix of the batch)

   sigmoid(a) = 0.5 tanh(a / 2) + 0.5, so every gate is one tanh. tanh is computed here from
   expm1 with plain arithmetic (no libm call), so GCC vectorises the gate loops without
   -ffast-math; it is within 2e-7 of tanh everywhere (tests/model/test_gru_scan.py). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
/* One build for every x86-64 machine: an AVX2 + FMA copy is picked at load time where the
   CPU has it (glibc ifunc), the baseline SSE2 copy elsewhere. */
#define SCAN_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define SCAN_CLONES
#endif
/* Inlined into each copy of scan, so that they are compiled for its instruction set too. */
#define INLINE static inline __attribute__((always_inline))

#define MAX_GATES 3072 /* 3H for H <= 1024 */
#define BLOCK 64       /* gate columns summed in registers at once */

/* tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|)), with the sign of x. expm1 by Cody-Waite
   reduction (y = k ln2 + r, |r| <= ln2 / 2) and a degree-7 Taylor polynomial in r, which
   keeps full relative precision near 0 (k = 0 there). |x| >= 9 gives +-1 (as in float). */
INLINE float tanh_f(float x) {
    float a = __builtin_fabsf(x);
    a = a < 9.0f ? a : 9.0f;
    float y = -2.0f * a;
    float k = (y * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round(y / ln2) */
    float r = (y - k * 0.693359375f) + k * 2.12194440e-4f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r * r + r; /* expm1(r) */
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale); /* 2^k, k in [-26, 0] */
    float em1 = scale * p + (scale - 1.0f);
    float t = __builtin_copysignf(-em1 / (2.0f + em1), x);
    return x != x ? x : t; /* NaN stays NaN, as in NumPy */
}

/* out[b] = h[b] . w[:H] + w[H] for the states h[b] (H floats, `stride` apart) of `texts`
   texts, w (H + 1, G). BLOCK columns at a time are summed in registers while the H rows
   stream past; each block of w (H x BLOCK floats) stays in L1 for all texts, so a batch
   reads w once per step, as a matrix product would. */
INLINE void state_gates(const float *h, size_t stride, int texts, const float *w, int H, int G,
                        float *out) {
    const float *bias = w + (size_t)H * G;
    int j0 = 0;
    for (; j0 + BLOCK <= G; j0 += BLOCK) {
        for (int b = 0; b < texts; b++) {
            const float *hb = h + b * stride;
            float acc[BLOCK];
            for (int j = 0; j < BLOCK; j++) acc[j] = bias[j0 + j];
            for (int k = 0; k < H; k++) {
                const float hk = hb[k];
                const float *row = w + (size_t)k * G + j0;
                for (int j = 0; j < BLOCK; j++) acc[j] += hk * row[j];
            }
            memcpy(out + (size_t)b * G + j0, acc, sizeof acc);
        }
    }
    for (int b = 0; b < texts && j0 < G; b++) { /* the columns past the last full block */
        const float *hb = h + b * stride;
        float *ob = out + (size_t)b * G;
        for (int j = j0; j < G; j++) ob[j] = bias[j];
        for (int k = 0; k < H; k++) {
            const float hk = hb[k];
            const float *row = w + (size_t)k * G;
            for (int j = j0; j < G; j++) ob[j] += hk * row[j];
        }
    }
}

/* gh: scratch for B x 3H floats. */
SCAN_CLONES
static void scan(const float *gates, const float *w_hh, float *states, const int64_t *active,
                 int T, int R, int B, int H, float *gh) {
    const int G = 3 * H;
    const size_t stride = (size_t)H + 1;
    float rz[MAX_GATES];
    for (int t = 0; t < T; t++) {
        const int running = (int)active[t];
        for (int d = 0; d < R; d++) {
            const size_t first = ((size_t)t * R + d) * B; /* row of text 0 at step t */
            const size_t first_next = ((size_t)(t + 1) * R + d) * B;
            state_gates(states + first * stride, stride, running,
                        w_hh + (size_t)d * (H + 1) * G, H, G, gh);
            for (int b = 0; b < running; b++) {
                const float *gi = gates + (first + b) * G;
                const float *g = gh + (size_t)b * G;
                const float *h = states + (first + b) * stride;
                float *next = states + (first_next + b) * stride;
                for (int j = 0; j < 2 * H; j++) rz[j] = 0.5f * tanh_f(gi[j] + g[j]) + 0.5f;
                for (int j = 0; j < H; j++)
                    rz[2 * H + j] = tanh_f(gi[2 * H + j] + rz[j] * g[2 * H + j]);
                for (int j = 0; j < H; j++) {
                    const float n = rz[2 * H + j];
                    next[j] = n + rz[H + j] * (h[j] - n); /* (1 - z) n + z h */
                }
            }
        }
    }
}

static int check_size(const Py_buffer *buffer, Py_ssize_t floats, const char *name) {
    if (buffer->len != floats * (Py_ssize_t)sizeof(float)) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd float32 values, got %zd bytes", name,
                     floats, buffer->len);
        return 0;
    }
    return 1;
}

static PyObject *py_scan(PyObject *self, PyObject *args) {
    Py_buffer gates, w_hh, states, active;
    int R, B, H;
    if (!PyArg_ParseTuple(args, "y*y*w*y*iii:scan", &gates, &w_hh, &states, &active, &R, &B,
                          &H))
        return NULL;
    PyObject *result = NULL;
    const Py_ssize_t T = active.len / (Py_ssize_t)sizeof(int64_t);
    if (R < 1 || B < 1 || H < 1 || 3 * H > MAX_GATES) {
        PyErr_Format(PyExc_ValueError, "unsupported shape: rows %d, batch %d, hidden %d", R, B, H);
        goto done;
    }
    if (active.len != T * (Py_ssize_t)sizeof(int64_t) || T > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "active: expected int64 values");
        goto done;
    }
    for (Py_ssize_t t = 0; t < T; t++) {
        const int64_t running = ((const int64_t *)active.buf)[t];
        if (running < 0 || running > B) {
            PyErr_Format(PyExc_ValueError, "active[%zd] = %lld is outside [0, %d]", t,
                         (long long)running, B);
            goto done;
        }
    }
    if (!check_size(&gates, T * R * B * 3 * H, "gates") ||
        !check_size(&w_hh, (Py_ssize_t)R * (H + 1) * 3 * H, "w_hh") ||
        !check_size(&states, (T + 1) * R * B * (H + 1), "states"))
        goto done;
    float *gh = PyMem_RawMalloc((size_t)B * 3 * H * sizeof(float));
    if (gh == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    scan(gates.buf, w_hh.buf, states.buf, active.buf, (int)T, R, B, H, gh);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(gh);
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&gates);
    PyBuffer_Release(&w_hh);
    PyBuffer_Release(&states);
    PyBuffer_Release(&active);
    return result;
}

static PyObject *py_tanh(PyObject *self, PyObject *args) {
    Py_buffer x, out;
    if (!PyArg_ParseTuple(args, "y*w*:tanh", &x, &out)) return NULL;
    PyObject *result = NULL;
    if (x.len != out.len || x.len % (Py_ssize_t)sizeof(float)) {
        PyErr_SetString(PyExc_ValueError, "tanh: x and out must be float32 of one size");
    } else {
        const float *in = x.buf;
        float *to = out.buf;
        for (Py_ssize_t i = 0; i < x.len / (Py_ssize_t)sizeof(float); i++) to[i] = tanh_f(in[i]);
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&x);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", py_scan, METH_VARARGS,
     "scan(gates, w_hh, states, active, rows, batch, hidden): the GRU recurrence, states "
     "written in place (layout: model/_gru_scan.c)."},
    {"tanh", py_tanh, METH_VARARGS, "tanh(x, out): the scan's float32 tanh, for tests."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_gru_scan", "The GRU recurrence in C (model/fast_path.py).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__gru_scan(void) { return PyModule_Create(&module); }
