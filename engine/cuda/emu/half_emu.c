/*
 * half_emu.c: half-precision conversions for emulated kernels, from engine/dtype.h (which is C
 * only), so emulated kernels round exactly as the CPU backend does. On a GPU the same job is
 * done by cuda_fp16.h / cuda_bf16.h (round to nearest even as well).
 */
#include "engine/cuda/emu/half_emu.h"

#include "engine/dtype.h"

float emu_f16_to_f32(uint16_t h) { return f16_to_f32(h); }
uint16_t emu_f32_to_f16(float f) { return f32_to_f16(f); }
uint16_t emu_f32_to_bf16(float f) { return f32_to_bf16(f); }
