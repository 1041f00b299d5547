/* rope_table.c: see rope_table.h. */
#include "engine/rope_table.h"

#include <math.h>

/* inv_freq[i] = 1 / theta^((2i)/dim) in f32, as torch computes it from an int64 arange cast to
   f32 and divided by dim. */
static float inv_freq(int i, int dim, double theta) {
    float e = (float)(2 * i) / (float)dim;
    return 1.0f / powf((float)theta, e);
}

void rope_angles(float *cos, float *sin, const int32_t *pos, int n, int head_dim, double theta) {
    const int half = head_dim / 2;
    for (int i = 0; i < half; i++) {
        float f = inv_freq(i, head_dim, theta);
        for (int r = 0; r < n; r++) {
            float a = (float)pos[r] * f;
            cos[(int64_t)r * half + i] = cosf(a);
            sin[(int64_t)r * half + i] = sinf(a);
        }
    }
}

void mrope_angles(float *cos, float *sin, const int32_t *pos3, int n, int head_dim, double theta, const int section[3]) {
    const int half = head_dim / 2;
    for (int i = 0; i < half; i++) {
        int stream = i < section[0] ? 0 : i < section[0] + section[1] ? 1 : 2;
        float f = inv_freq(i, head_dim, theta);
        for (int r = 0; r < n; r++) {
            float a = (float)pos3[(int64_t)stream * n + r] * f;
            cos[(int64_t)r * half + i] = cosf(a);
            sin[(int64_t)r * half + i] = sinf(a);
        }
    }
}

void vision_rope_angles(float *cos, float *sin, const int32_t *hpos, const int32_t *wpos, int n, int head_dim,
                        double theta) {
    const int half = head_dim / 2, quarter = head_dim / 4;
    for (int i = 0; i < half; i++) {
        int k = i < quarter ? i : i - quarter;
        float f = inv_freq(k, half, theta);
        for (int r = 0; r < n; r++) {
            float a = (float)(i < quarter ? hpos[r] : wpos[r]) * f;
            cos[(int64_t)r * half + i] = cosf(a);
            sin[(int64_t)r * half + i] = sinf(a);
        }
    }
}
