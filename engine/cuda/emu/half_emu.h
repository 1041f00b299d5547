/* half_emu.h: half-precision conversions for emulated kernels (half_emu.c). */
#ifndef SPARSEMM_HALF_EMU_H
#define SPARSEMM_HALF_EMU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

float emu_f16_to_f32(uint16_t h);
uint16_t emu_f32_to_f16(float f);
uint16_t emu_f32_to_bf16(float f);

#ifdef __cplusplus
}
#endif

#endif
