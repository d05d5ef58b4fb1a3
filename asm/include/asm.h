/*
 * asm/include/asm.h -- conventions for every .S file of the shims. Include it first.
 *
 * - Intel syntax without % prefixes.
 * - Every symbol is hidden: the shim is one static-PIE with no dynamic symbols, so every reference stays a
 *   PC-relative one the linker resolves, and the image needs no relocation at all (shim.ld asserts that).
 * - FUNC(name) ... END(name) brackets a global function; LOCAL_FUNC for file-local ones.
 * - Local labels are .L<function>_<what>, so a disassembly reads as the source does.
 * - Every file marks its stack non-executable.
 */
#ifndef DJ_ASM_H
#define DJ_ASM_H

#ifdef __ASSEMBLER__

    .intel_syntax noprefix

#define FUNC(name) \
    .text; .globl name; .hidden name; .type name, @function; .balign 16; name:

#define LOCAL_FUNC(name) \
    .text; .type name, @function; .balign 16; name:

#define END(name) \
    .size name, . - name

#define DATA(name) \
    .globl name; .hidden name; .type name, @object; name:

    .section .note.GNU-stack, "", @progbits
    .text

#endif /* __ASSEMBLER__ */
#endif /* DJ_ASM_H */
