# The test NBP. Entered by a far call at 0000:7C00 (PXE 2.1 §4.4.5): ES:BX -> PXENV+,
# SS:SP -> return address, SS:SP+4 -> !PXE (SEGOFF16). Prints one line per fact on COM1
# (the ROM already programmed it), verifies its pattern block, and far-returns with AX = 0.
        .code16
        .section .nbp, "awx"
        .globl  _start
        .set    PATTERN_LEN, 65536
_start:
        jmp     main
        .org    8
        .ascii  "SPXTNBP1"
main:
        # save what we were handed before touching anything
        movw    %es, %cs:in_es - _start + 0x7c00
        movw    %bx, %cs:in_bx - _start + 0x7c00
        movw    %ss, %cs:in_ss - _start + 0x7c00
        movw    %sp, %cs:in_sp - _start + 0x7c00
        pushw   %bp
        movw    %sp, %bp
        movl    6(%bp), %eax            # !PXE SEGOFF16 at SS:SP+4 of the caller's view
        movl    %eax, %cs:in_pxe - _start + 0x7c00
        movl    2(%bp), %eax            # our return address
        movl    %eax, %cs:in_ret - _start + 0x7c00
        popw    %bp
        call    1f                      # where are we really?
1:      popw    %ax
        subw    $1b - _start, %ax
        movw    %ax, %cs:in_ip - _start + 0x7c00
        movw    %cs, %cs:in_cs - _start + 0x7c00
        pushal
        pushw   %ds
        pushw   %es
        xorw    %ax, %ax
        movw    %ax, %ds

        movw    $msg_start, %si
        call    puts
        movw    in_cs, %ax
        call    hex16
        movb    $':', %al
        call    putc
        movw    in_ip, %ax
        call    hex16
        movw    $msg_esbx, %si
        call    puts
        movw    in_es, %ax
        call    hex16
        movb    $':', %al
        call    putc
        movw    in_bx, %ax
        call    hex16
        movw    $msg_sssp, %si
        call    puts
        movw    in_ss, %ax
        call    hex16
        movb    $':', %al
        call    putc
        movw    in_sp, %ax
        call    hex16
        movw    $msg_pxe, %si
        call    puts
        movw    in_pxe + 2, %ax
        call    hex16
        movb    $':', %al
        call    putc
        movw    in_pxe, %ax
        call    hex16
        movw    $msg_ret, %si
        call    puts
        movw    in_ret + 2, %ax
        call    hex16
        movb    $':', %al
        call    putc
        movw    in_ret, %ax
        call    hex16
        call    crlf

        # PXENV+ at ES:BX and !PXE at the stack pointer (valid once the ROM has the PXE API)
        movw    $msg_pxenv, %si
        call    puts
        movw    in_es, %es
        movw    in_bx, %di
        movw    $sig_pxenv, %si
        movw    $6, %cx
        repe cmpsb
        movw    $msg_found, %si
        je      2f
        movw    $msg_missing, %si
2:      call    puts
        movw    $msg_bang, %si
        call    puts
        les     in_pxe, %di
        movw    $sig_bang, %si
        movw    $4, %cx
        repe cmpsb
        movw    $msg_found, %si
        je      3f
        movw    $msg_missing, %si
3:      call    puts
        call    crlf

        # the pattern block: byte i = (i xor i/256) mod 256, checked with 32-bit addressing
        # through the segments that hold it
        xorl    %ecx, %ecx
4:      movl    $pattern, %ebx
        addl    %ecx, %ebx
        movl    %ebx, %edx
        shrl    $4, %edx
        movw    %dx, %es
        andw    $0x0f, %bx
        movb    %es:(%bx), %al
        movl    %ecx, %edx
        xorb    %ch, %dl
        cmpb    %dl, %al
        jne     5f
        incl    %ecx
        cmpl    $PATTERN_LEN, %ecx
        jb      4b
        movw    $msg_intact, %si
        call    puts
        movl    $nbp_end - _start, %eax
        call    dec32
        movw    $msg_bytes, %si
        call    puts
        jmp     6f
5:      movw    $msg_corrupt, %si
        call    puts
        movl    %ecx, %eax
        call    dec32
        call    crlf
6:      movw    $msg_return, %si
        call    puts
        popw    %es
        popw    %ds
        popal
        xorw    %ax, %ax
        lretw

# --- COM1 output ---------------------------------------------------------------------------
putc:   pushw   %dx
        pushw   %ax
        movw    $0x3fd, %dx
        movw    $0xffff, %cx
7:      inb     %dx, %al
        testb   $0x20, %al
        loopz   7b
        popw    %ax
        movw    $0x3f8, %dx
        outb    %al, %dx
        popw    %dx
        ret
puts:   lodsb
        testb   %al, %al
        jz      8f
        pushw   %cx
        call    putc
        popw    %cx
        jmp     puts
8:      ret
crlf:   pushw   %si
        movw    $msg_crlf, %si
        call    puts
        popw    %si
        ret
hex16:  movw    $4, %cx
9:      rolw    $4, %ax
        pushw   %ax
        andb    $0x0f, %al
        addb    $'0', %al
        cmpb    $'9', %al
        jbe     10f
        addb    $7, %al
10:     pushw   %cx
        call    putc
        popw    %cx
        popw    %ax
        loop    9b
        ret
dec32:  movl    $10, %ebx
        xorw    %cx, %cx
11:     xorl    %edx, %edx
        divl    %ebx
        pushw   %dx
        incw    %cx
        testl   %eax, %eax
        jnz     11b
12:     popw    %ax
        addb    $'0', %al
        pushw   %cx
        call    putc
        popw    %cx
        loop    12b
        ret

in_cs:  .word 0
in_ip:  .word 0
in_es:  .word 0
in_bx:  .word 0
in_ss:  .word 0
in_sp:  .word 0
in_pxe: .long 0
in_ret: .long 0
sig_pxenv:      .ascii "PXENV+"
sig_bang:       .ascii "!PXE"
msg_start:      .asciz "testnbp: started at "
msg_esbx:       .asciz " ES:BX "
msg_sssp:       .asciz " SS:SP "
msg_pxe:        .asciz " !PXE "
msg_ret:        .asciz " return "
msg_pxenv:      .asciz "testnbp: PXENV+ at ES:BX "
msg_bang:       .asciz ", !PXE at SS:SP+4 "
msg_found:      .asciz "found"
msg_missing:    .asciz "missing"
msg_intact:     .asciz "testnbp: image intact, "
msg_bytes:      .asciz " bytes\r\n"
msg_corrupt:    .asciz "testnbp: image CORRUPT at pattern byte "
msg_return:     .asciz "testnbp: returning to the PXE ROM\r\n"
msg_crlf:       .asciz "\r\n"

        .balign 16
pattern:
        .set    i, 0
        .rept   PATTERN_LEN
        .byte   (i ^ (i >> 8)) & 0xff
        .set    i, i + 1
        .endr
nbp_end:
