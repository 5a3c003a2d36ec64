# apitest.0: an NBP that exercises the PXE 2.1 API of the ROM that started it and reports every
# answer on COM1, one line each (format: docs/api-test-nbp.md).
#
# Entered by a far call at 0000:7C00 (PXE 2.1 4.4.5): ES:BX -> PXENV+, SS:SP+4 -> !PXE.
# Runs with CS = DS = 0 (it far-jumps to 0000:7C00+x first) on its own 4 KiB stack inside the
# image. Every loop is bounded by a count and, where it waits for the network, by the BIOS tick
# counter (0040:006C). Memory above 1 MiB is read back with INT 15h AH=87h (BIOS block move).
#
# Image header (patchable by tests):
#   0x08  "SPXAPIT1"
#   0x10  u16 flags: bit0 = at the end call STOP_BASE, UNDI_CLEANUP, UNDI_SHUTDOWN, UNLOAD_STACK,
#         STOP_UNDI
#         and halt (cli; hlt); bit0 clear = skip them and far-return to the ROM with AX = 0.
#         bit1 = after the calls a ROM may refuse, call RESTART_TFTP for apitest.0 (does not
#         return; the second start prints "apitest: restarted by RESTART_TFTP" and ends).
#         bit2 = instead of the API tour, the receive-filter step (rxfilter.s): UNDI info, then
#         UNDI_OPEN with a multicast list, SET_STATION_ADDRESS, SET_PACKET_FILTER, counting
#         frames per destination through UNDI_ISR (bit0 still selects unload + halt).
#         bit3 = lossy link: the UDP ping and the ARP request are sent again after ~1 s
#         without an answer (at most 3 times each, still within ~3 s).
#         Default 1.
#   0x12  u16 UDP echo port on the boot server (host order; default 7777)
#   0x14  u16 UDP source port (host order; default 4000)
#   0x18  u32 TFTP_READ_FILE BufferSize (default 0x10000; 0 = default, at most 0x800000)
#   0x20  char[32] file name for the TFTP calls (default "apitest.dat")
#   0x40  char[32] file name for TFTP_READ_FILE only (default empty = the one at 0x20)
        .code16
        .section .nbp, "awx"
        .globl  _start

        .set    PB_SIZE, 256
        .set    BIG_SIZE, 2048
        .set    HIGH_BUF, 0x00200000
        .set    RF_DEFAULT, 0x10000             # READ_FILE BufferSize unless the header says
        .set    RF_MAX, 0x800000                # 8 MiB: 0x200000..0xA00000 in a 32 MiB guest
        .set    LOSSY, 8                        # header flag: lossy link
        .set    TICKS_1S, 18
        .set    RESENDS, 3                      # sends of the ping / ARP request (lossy)
        .set    TICKS_3S, 55
        .set    SMAP, 0x534d4150
        .set    RESTART_FLAG, 0x4f0             # 0000:04F0, the BDA's inter-application area
        .set    RESTART_MAGIC, 0x54525041       # "APRT"

_start:
        jmp     main
        .org    8
        .ascii  "SPXAPIT1"
        .org    0x10
cfg_flags:      .word 1
cfg_udp_port:   .word 7777
cfg_src_port:   .word 4000
        .org    0x18
cfg_rf_size:    .long RF_DEFAULT
        .org    0x20
cfg_file:       .asciz "apitest.dat"
        .org    0x40
cfg_rf_file:    .asciz ""
        .org    0x60
main:
        cli
        ljmpw   $0, $1f
1:      movw    %es, %cs:in_es
        movw    %bx, %cs:in_bx
        movw    %ss, %cs:in_ss
        movw    %sp, %cs:in_sp
        movw    %sp, %bp
        movl    4(%bp), %eax            # !PXE SEGOFF16 at SS:SP+4
        movl    %eax, %cs:in_pxe
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movw    $stack_top, %sp
        sti
        cld
        # wait for two timer ticks (~110 ms; bounded by a count): SeaBIOS's serial console
        # (sercon, QEMU -nographic) writes the ROM's last characters ("]" of iPXE's
        # "[PXE-NBP]") on a later tick, which must come before our first line, not inside one
        movl    0x46c, %eax
        movl    $0x2000000, %ecx
8:      movl    0x46c, %edx
        subl    %eax, %edx
        cmpl    $2, %edx
        jae     9f
        decl    %ecx
        jnz     8b
9:      call    serial_init

        call    pinl
        .asciz  "apitest: start cs:ip=0000:7C00 es:bx="
        movw    in_es, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    in_bx, %ax
        call    hex16
        call    pinl
        .asciz  " ss:sp="
        movw    in_ss, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    in_sp, %ax
        call    hex16
        call    pinl
        .asciz  " pxe="
        movw    in_pxe + 2, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    in_pxe, %ax
        call    hex16
        call    crlf

        # the second start after RESTART_TFTP: report it and stop
        cmpl    $RESTART_MAGIC, RESTART_FLAG
        jne     1f
        movl    $0, RESTART_FLAG
        call    pinl
        .asciz  "apitest: restarted by RESTART_TFTP\r\n"
        jmp     finish
1:
        call    memory_report
        call    discover
        cmpb    $0, have_api
        jne     2f
        call    pinl
        .asciz  "apitest: no PXE API found\r\n"
        jmp     finish
2:
        testb   $4, cfg_flags
        jz      6f
        call    test_rxfilter
        jmp     7f
6:      call    test_cached_info
        call    test_undi_info
        call    test_both_entries
        call    test_tftp
        call    test_udp
        call    test_unsupported
        testb   $2, cfg_flags
        jz      5f
        call    test_restart
5:      call    test_undi_state
        call    test_undi_raw
7:      testb   $1, cfg_flags
        jz      finish
        call    test_unload
finish:
        call    pinl
        .asciz  "apitest: done\r\n"
        testb   $1, cfg_flags
        jz      3f
        cli
4:      hlt
        jmp     4b
3:      cli
        movw    in_ss, %ss
        movw    in_sp, %sp
        movw    in_es, %es
        movw    in_bx, %bx
        sti
        xorw    %ax, %ax
        lretw

# --- memory: INT 12h and the E820 map ------------------------------------------------------
memory_report:
        int     $0x12
        movzwl  %ax, %eax
        call    pinl
        .asciz  "apitest: base memory "
        call    dec32
        call    pinl
        .asciz  " KiB bda="
        movzwl  0x413, %eax
        call    dec32
        call    crlf
        xorl    %ebx, %ebx
        movw    $0, e820_count
1:      movl    $1, e820_buf + 20
        pushw   %ds
        popw    %es
        movw    $e820_buf, %di
        movl    $0xe820, %eax
        movl    $24, %ecx
        movl    $SMAP, %edx
        int     $0x15
        jc      2f
        cmpl    $SMAP, %eax
        jne     2f
        call    pinl
        .asciz  "apitest: E820 base="
        movl    e820_buf + 4, %eax
        call    hex32
        movl    e820_buf, %eax
        call    hex32
        call    pinl
        .asciz  " length="
        movl    e820_buf + 12, %eax
        call    hex32
        movl    e820_buf + 8, %eax
        call    hex32
        call    pinl
        .asciz  " type="
        movl    e820_buf + 16, %eax
        call    hex32
        call    crlf
        incw    e820_count
        cmpw    $64, e820_count
        jae     2f
        testl   %ebx, %ebx
        jnz     1b
2:      call    pinl
        .asciz  "apitest: E820 entries="
        movw    e820_count, %ax
        call    hex16
        call    crlf
        ret

# --- finding the API (SYSLINUX order) --------------------------------------------------------
# checksum: ES:DI structure, CX length; ZF set if the byte sum is 0
checksum:
        pushw   %di
        pushw   %cx
        xorb    %al, %al
1:      addb    %es:(%di), %al
        incw    %di
        loop    1b
        popw    %cx
        popw    %di
        testb   %al, %al
        ret

# check_bang: ES:DI -> candidate !PXE; CF clear if valid. Prints " ok" / " bad-...".
check_bang:
        cmpl    $0x45585021, %es:(%di)          # "!PXE"
        jne     1f
        movzbw  %es:4(%di), %cx
        cmpw    $0x58, %cx
        jb      2f
        call    checksum
        jnz     2f
        call    pinl
        .asciz  " ok"
        clc
        ret
1:      call    pinl
        .asciz  " bad-signature"
        stc
        ret
2:      call    pinl
        .asciz  " bad-checksum"
        stc
        ret

# check_pxenv: ES:DI -> candidate PXENV+; CF clear if valid. Prints version and the verdict.
check_pxenv:
        cmpl    $0x4e455850, %es:(%di)          # "PXEN"
        jne     1f
        cmpw    $0x2b56, %es:4(%di)             # "V+"
        jne     1f
        call    pinl
        .asciz  " version "
        movw    %es:6(%di), %ax
        call    hex16
        movzbw  %es:8(%di), %cx
        cmpw    $0x26, %cx
        jb      2f
        call    checksum
        jnz     2f
        call    pinl
        .asciz  " ok"
        clc
        ret
1:      call    pinl
        .asciz  " bad-signature"
        stc
        ret
2:      call    pinl
        .asciz  " bad-checksum"
        stc
        ret

discover:
        # 1. !PXE at SS:[SP+4]
        call    pinl
        .asciz  "apitest: !PXE at "
        movw    in_pxe + 2, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    in_pxe, %ax
        call    hex16
        les     in_pxe, %di
        movw    %es, %ax
        orw     %di, %ax
        jnz     1f
        call    pinl
        .asciz  " missing"
        jmp     2f
1:      call    check_bang
        jc      2f
        movb    $1, have_bang
        movl    %es:0x10(%di), %eax
        movl    %eax, bang_entry
        call    pinl
        .asciz  " len="
        movb    %es:4(%di), %al
        call    hex8
        call    pinl
        .asciz  " rev="
        movb    %es:6(%di), %al
        call    hex8
        call    pinl
        .asciz  " entrysp="
        movw    bang_entry + 2, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    bang_entry, %ax
        call    hex16
        call    pinl
        .asciz  " segdesccnt="
        movb    %es:0x1d(%di), %al
        call    hex8
2:      call    crlf

        # 2. PXENV+ at ES:BX
        call    pinl
        .asciz  "apitest: PXENV+ at "
        movw    in_es, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    in_bx, %ax
        call    hex16
        movw    in_es, %es
        movw    in_bx, %di
        call    check_pxenv
        jc      3f
        call    note_pxenv
3:      call    crlf

        # 3. INT 1Ah AX=5650h
        call    pinl
        .asciz  "apitest: INT 1Ah 5650h -> "
        pushw   %ds
        pushal
        movw    $0x5650, %ax
        stc
        int     $0x1a
        setc    %cs:i1a_cf
        movw    %ax, %cs:i1a_ax
        movw    %es, %cs:i1a_es
        movw    %bx, %cs:i1a_bx
        popal
        popw    %ds
        sti
        cld
        call    pinl
        .asciz  "ax="
        movw    i1a_ax, %ax
        call    hex16
        call    pinl
        .asciz  " cf="
        movb    i1a_cf, %al
        call    hex8
        cmpw    $0x564e, i1a_ax
        jne     5f
        cmpb    $0, i1a_cf
        jne     5f
        call    pinl
        .asciz  " ES:BX "
        movw    i1a_es, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    i1a_bx, %ax
        call    hex16
        movw    i1a_es, %es
        movw    i1a_bx, %di
        call    check_pxenv
        jc      6f
        cmpb    $0, have_pxenv
        jne     6f
        call    note_pxenv
        jmp     6f
5:      call    pinl
        .asciz  " fail"
6:      call    crlf

        # 4. !PXE through PXENV+.PXEPtr when SS:SP+4 had none
        cmpb    $0, have_bang
        jne     7f
        cmpb    $0, have_pxenv
        je      7f
        cmpl    $0, pxenv_pxeptr
        je      7f
        call    pinl
        .asciz  "apitest: !PXE via PXENV+.PXEPtr at "
        movw    pxenv_pxeptr + 2, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    pxenv_pxeptr, %ax
        call    hex16
        les     pxenv_pxeptr, %di
        call    check_bang
        jc      8f
        movb    $1, have_bang
        movl    %es:0x10(%di), %eax
        movl    %eax, bang_entry
8:      call    crlf
7:
        movb    have_bang, %al
        orb     have_pxenv, %al
        movb    %al, have_api
        call    pinl
        .asciz  "apitest: entry "
        cmpb    $0, have_bang
        je      9f
        call    pinl
        .asciz  "!PXE EntryPointSP "
        movw    bang_entry + 2, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    bang_entry, %ax
        call    hex16
        jmp     10f
9:      cmpb    $0, have_pxenv
        je      11f
        call    pinl
        .asciz  "PXENV+ RMEntry "
        movw    pxenv_entry + 2, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    pxenv_entry, %ax
        call    hex16
        jmp     10f
11:     call    pinl
        .asciz  "none"
10:     call    crlf
        ret

# note_pxenv: ES:DI valid PXENV+: remember RMEntry (and PXEPtr for version >= 2.1)
note_pxenv:
        movb    $1, have_pxenv
        movl    %es:0x0a(%di), %eax
        movl    %eax, pxenv_entry
        call    pinl
        .asciz  " len="
        movb    %es:8(%di), %al
        call    hex8
        call    pinl
        .asciz  " rmentry="
        movw    pxenv_entry + 2, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    pxenv_entry, %ax
        call    hex16
        cmpw    $0x0201, %es:6(%di)
        jb      1f
        movl    %es:0x28(%di), %eax
        movl    %eax, pxenv_pxeptr
        call    pinl
        .asciz  " pxeptr="
        movw    pxenv_pxeptr + 2, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    pxenv_pxeptr, %ax
        call    hex16
1:      ret

# --- calling the API -------------------------------------------------------------------------
# rawcall: BX = opcode, parameters in pb (segment 0). Through !PXE EntryPointSP unless
# via_pxenv is set or there is no !PXE. Returns AX (also in last_ax); preserves the rest.
rawcall:
        pushal
        pushw   %ds
        pushw   %es
        movw    %bx, last_op
        movb    $0, last_via
        cmpb    $0, have_bang
        je      1f
        cmpb    $0, via_pxenv
        jne     1f
        pushw   $0
        pushw   $pb
        pushw   %bx
        lcallw  *bang_entry
        addw    $6, %sp
        jmp     2f
1:      movb    $1, %cs:last_via
        xorw    %ax, %ax
        movw    %ax, %es
        movw    $pb, %di
        lcallw  *pxenv_entry
2:      movw    %ax, %cs:last_ax
        popw    %es
        popw    %ds
        popal
        movw    last_ax, %ax
        sti
        cld
        ret

# hdr: prints "apitest: CALL <op> <name> ax=<ax> status=<pb.Status> via=<entry>" of the last
# call; SI = name
hdr:
        pushw   %ax
        call    pinl
        .asciz  "apitest: CALL "
        movw    last_op, %ax
        call    hex16
        call    pinl
        .asciz  " "
        call    puts
        call    pinl
        .asciz  " ax="
        movw    last_ax, %ax
        call    hex16
        call    pinl
        .asciz  " status="
        movw    pb, %ax
        call    hex16
        cmpb    $0, last_via
        jne     1f
        call    pinl
        .asciz  " via=!PXE"
        jmp     2f
1:      call    pinl
        .asciz  " via=PXENV+"
2:      popw    %ax
        ret

# api: rawcall + hdr (line left open for the caller's key=value pairs)
api:    call    rawcall
        call    hdr
        ret

# pbclr: zero the parameter block
pbclr:  pushal
        pushw   %es
        xorw    %ax, %ax
        movw    %ax, %es
        movw    $pb, %di
        movw    $PB_SIZE, %cx
        rep stosb
        popw    %es
        popal
        ret

# ok?: ZF set if the last call succeeded (AX = 0 and Status = 0)
okp:    pushw   %ax
        movw    last_ax, %ax
        orw     pb, %ax
        popw    %ax
        ret

# --- GET_CACHED_INFO -------------------------------------------------------------------------
# show_bootp: ES:DI -> a BOOTP/DHCP packet; prints its interesting fields
show_bootp:
        call    pinl
        .asciz  " op="
        movb    %es:(%di), %al
        call    hex8
        call    pinl
        .asciz  " ciaddr="
        movl    %es:12(%di), %eax
        call    put_ip
        call    pinl
        .asciz  " yiaddr="
        movl    %es:16(%di), %eax
        call    put_ip
        call    pinl
        .asciz  " siaddr="
        movl    %es:20(%di), %eax
        call    put_ip
        call    pinl
        .asciz  " giaddr="
        movl    %es:24(%di), %eax
        call    put_ip
        call    pinl
        .asciz  " chaddr="
        leaw    28(%di), %si
        call    put_mac
        call    pinl
        .asciz  " file4="
        movb    %es:108(%di), %al
        call    hex8
        movb    %es:109(%di), %al
        call    hex8
        movb    %es:110(%di), %al
        call    hex8
        movb    %es:111(%di), %al
        call    hex8
        call    pinl
        .asciz  " file="
        leaw    108(%di), %si
        movw    $127, %cx
        call    put_qstr
        call    pinl
        .asciz  " cookie="
        movl    %es:236(%di), %eax
        bswapl  %eax
        call    hex32
        ret

# cached_one: AX = packet type, via the default entry with BufferSize 0
cached_one:
        call    pbclr
        movw    %ax, pb + 2
        movw    $0x71, %bx
        movw    $n_gci, %si
        call    api
        call    pinl
        .asciz  " type="
        movw    pb + 2, %ax
        call    hex16
        call    pinl
        .asciz  " bufsize="
        movw    pb + 4, %ax
        call    hex16
        call    pinl
        .asciz  " buffer="
        movw    pb + 8, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    pb + 6, %ax
        call    hex16
        call    pinl
        .asciz  " limit="
        movw    pb + 10, %ax
        call    hex16
        call    okp
        jnz     1f
        cmpw    $240, pb + 4
        jb      1f
        cmpl    $0, pb + 6
        je      1f
        les     pb + 6, %di
        call    show_bootp
        # remember the client and server addresses
        movl    %es:16(%di), %eax
        cmpw    $2, pb + 2
        jne     2f
        movl    %eax, my_ip
        movl    %es:20(%di), %eax
        movl    %eax, ack_siaddr
        jmp     1f
2:      cmpw    $3, pb + 2
        jne     1f
        movl    %es:20(%di), %eax
        movl    %eax, reply_siaddr
1:      call    crlf
        ret

test_cached_info:
        movw    $1, %ax
        call    cached_one
        movw    $2, %ax
        call    cached_one
        movw    $3, %ax
        call    cached_one
        # the DHCPACK into our own 2048-byte buffer
        call    bigclr
        call    pbclr
        movw    $2, pb + 2
        movw    $BIG_SIZE, pb + 4
        movw    $bigbuf, pb + 6
        movw    $0, pb + 8
        movw    $0x71, %bx
        movw    $n_gci, %si
        call    api
        call    pinl
        .asciz  " type=0002 ownbuf=1 bufsize="
        movw    pb + 4, %ax
        call    hex16
        call    pinl
        .asciz  " buffer="
        movw    pb + 8, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    pb + 6, %ax
        call    hex16
        call    pinl
        .asciz  " limit="
        movw    pb + 10, %ax
        call    hex16
        call    pinl
        .asciz  " yiaddr="
        movl    bigbuf + 16, %eax
        call    put_ip
        call    pinl
        .asciz  " siaddr="
        movl    bigbuf + 20, %eax
        call    put_ip
        call    pinl
        .asciz  " chaddr="
        pushw   %ds
        popw    %es
        movw    $bigbuf + 28, %si
        call    put_mac
        call    crlf
        # an invalid packet type
        call    pbclr
        movw    $9, pb + 2
        movw    $0x71, %bx
        movw    $n_gci, %si
        call    api
        call    pinl
        .asciz  " type=0009 bufsize="
        movw    pb + 4, %ax
        call    hex16
        call    crlf
        # the boot server: siaddr of the cached reply, else of the DHCPACK
        movl    reply_siaddr, %eax
        testl   %eax, %eax
        jnz     1f
        movl    ack_siaddr, %eax
1:      movl    %eax, server_ip
        call    pinl
        .asciz  "apitest: boot server "
        call    put_ip
        call    pinl
        .asciz  " client "
        movl    my_ip, %eax
        call    put_ip
        call    crlf
        ret

# --- UNDI information calls ------------------------------------------------------------------
test_undi_info:
        # GET_IFACE_INFO
        call    pbclr
        movw    $0x13, %bx
        movw    $n_iface, %si
        call    api
        call    pinl
        .asciz  " iface="
        pushw   %ds
        popw    %es
        movw    $pb + 2, %si
        movw    $16, %cx
        call    put_qstr
        call    pinl
        .asciz  " linkspeed="
        movl    pb + 18, %eax
        call    hex32
        call    pinl
        .asciz  " flags="
        movl    pb + 22, %eax
        call    hex32
        call    crlf
        call    get_information
        # GET_NIC_TYPE
        call    pbclr
        movw    $0x12, %bx
        movw    $n_nic, %si
        call    api
        call    pinl
        .asciz  " nictype="
        movb    pb + 2, %al
        call    hex8
        cmpb    $2, pb + 2
        je      1f
        cmpb    $4, pb + 2
        jne     2f
1:      call    pinl
        .asciz  " vendor="
        movw    pb + 3, %ax
        call    hex16
        call    pinl
        .asciz  " device="
        movw    pb + 5, %ax
        call    hex16
        call    pinl
        .asciz  " class="
        movb    pb + 7, %al
        call    hex8
        call    pinl
        .asciz  " subclass="
        movb    pb + 8, %al
        call    hex8
        call    pinl
        .asciz  " progif="
        movb    pb + 9, %al
        call    hex8
        call    pinl
        .asciz  " rev="
        movb    pb + 10, %al
        call    hex8
        call    pinl
        .asciz  " busdevfunc="
        movw    pb + 11, %ax
        movw    %ax, nic_bdf
        call    hex16
        call    pinl
        .asciz  " subvendor="
        movw    pb + 13, %ax
        call    hex16
        call    pinl
        .asciz  " subdevice="
        movw    pb + 15, %ax
        call    hex16
        jmp     3f
2:      cmpb    $3, pb + 2
        jne     3f
        call    pinl
        .asciz  " eisaid="
        movl    pb + 3, %eax
        call    hex32
        call    pinl
        .asciz  " class="
        movb    pb + 7, %al
        call    hex8
        call    pinl
        .asciz  " subclass="
        movb    pb + 8, %al
        call    hex8
        call    pinl
        .asciz  " csn="
        movw    pb + 10, %ax
        call    hex16
3:      call    crlf
        call    get_statistics
        # CLEAR_STATISTICS, then the counters again
        call    pbclr
        movw    $0x0e, %bx
        movw    $n_clrstat, %si
        call    api
        call    crlf
        call    get_statistics
        # GET_MCAST_ADDRESS of 224.0.0.1
        call    pbclr
        movl    $0x010000e0, pb + 2
        movw    $0x11, %bx
        movw    $n_mcast, %si
        call    api
        call    pinl
        .asciz  " ip="
        movl    pb + 2, %eax
        call    put_ip
        call    pinl
        .asciz  " mac="
        pushw   %ds
        popw    %es
        movw    $pb + 6, %si
        call    put_mac
        call    crlf
        ret

get_information:
        call    pbclr
        movw    $0x0c, %bx
        movw    $n_info, %si
        call    api
        call    pinl
        .asciz  " baseio="
        movw    pb + 2, %ax
        call    hex16
        call    pinl
        .asciz  " irq="
        movw    pb + 4, %ax
        call    hex16
        call    pinl
        .asciz  " mtu="
        movw    pb + 6, %ax
        call    hex16
        call    pinl
        .asciz  " hwtype="
        movw    pb + 8, %ax
        call    hex16
        call    pinl
        .asciz  " hwaddrlen="
        movw    pb + 10, %ax
        call    hex16
        pushw   %ds
        popw    %es
        call    pinl
        .asciz  " mac="
        movw    $pb + 12, %si
        call    put_mac
        call    pinl
        .asciz  " permmac="
        movw    $pb + 28, %si
        call    put_mac
        call    pinl
        .asciz  " romaddr="
        movw    pb + 44, %ax
        call    hex16
        call    pinl
        .asciz  " rxbufct="
        movw    pb + 46, %ax
        call    hex16
        call    pinl
        .asciz  " txbufct="
        movw    pb + 48, %ax
        call    hex16
        call    crlf
        call    okp
        jnz     1f
        movl    pb + 12, %eax
        movl    %eax, my_mac
        movw    pb + 16, %ax
        movw    %ax, my_mac + 4
1:      ret

get_statistics:
        call    pbclr
        movw    $0x0d, %bx
        movw    $n_stat, %si
        call    api
        call    pinl
        .asciz  " xmit="
        movl    pb + 2, %eax
        call    hex32
        call    pinl
        .asciz  " rcv="
        movl    pb + 6, %eax
        call    hex32
        call    pinl
        .asciz  " crcerr="
        movl    pb + 10, %eax
        call    hex32
        call    pinl
        .asciz  " reserr="
        movl    pb + 14, %eax
        call    hex32
        call    crlf
        ret

# --- RESTART_TFTP (header flag bit 1): downloads apitest.0 again and starts it; does not return
# on success. The flag at 0000:04F0 tells the new copy that it is the second start.
test_restart:
        movl    $RESTART_MAGIC, RESTART_FLAG
        call    pbclr
        pushw   %ds
        popw    %es
        movw    $pb + 2, %di                    # FileName
        movw    $n_nbpfile, %si
        movw    $10, %cx
        rep movsb
        movl    $0x8000, pb + 130               # BufferSize (the ROM uses its own limit)
        movl    $0x7c00, pb + 134               # Buffer
        movl    server_ip, %eax
        movl    %eax, pb + 138                  # ServerIPAddress
        movw    $0x73, %bx
        movw    $n_restart, %si
        call    api
        call    crlf
        movl    $0, RESTART_FLAG
        ret

# --- UNDI state calls: START_UNDI .. SET_PACKET_FILTER; the NIC must work afterwards ---------
# Made after the TFTP and UDP calls, just before the raw UNDI test: iPXE's RESET_ADAPTER reopens
# the NIC the way UNDI_OPEN does, which freezes its IP stack until UNDI_CLOSE.
test_undi_state:
        # START_UNDI: AX = PCI bus:dev.fn (from GET_NIC_TYPE), BX = DX = FFFF (no ISAPnP),
        # ES:DI = 0 (no $PnP)
        call    pbclr
        movw    nic_bdf, %ax
        movw    %ax, pb + 2
        movw    $0xffff, pb + 4
        movw    $0xffff, pb + 6
        movw    $0x00, %bx
        movw    $n_startundi, %si
        call    api
        call    pinl
        .asciz  " in_ax="
        movw    nic_bdf, %ax
        call    hex16
        call    pinl
        .asciz  " in_bx=FFFF in_dx=FFFF in_di=0000 in_es=0000"
        call    crlf
        call    pbclr
        movw    $0x01, %bx
        movw    $n_startup, %si
        call    api
        call    crlf
        call    pbclr                           # ProtocolIni 0
        movw    $0x03, %bx
        movw    $n_init, %si
        call    api
        call    pinl
        .asciz  " protocolini=00000000"
        call    crlf
        call    pbclr                           # MCastAddrCount 0
        movw    $0x04, %bx
        movw    $n_reset, %si
        call    api
        call    pinl
        .asciz  " mcastcount=0000"
        call    crlf
        call    pbclr
        movw    $0x09, %bx
        movw    $n_setmcast, %si
        call    api
        call    pinl
        .asciz  " mcastcount=0000"
        call    crlf
        call    pbclr                           # the MAC it already has
        movl    my_mac, %eax
        movl    %eax, pb + 2
        movw    my_mac + 4, %ax
        movw    %ax, pb + 6
        movw    $0x0a, %bx
        movw    $n_setsta, %si
        call    api
        call    pinl
        .asciz  " mac="
        pushw   %ds
        popw    %es
        movw    $my_mac, %si
        call    put_mac
        call    crlf
        call    pbclr
        movb    $3, pb + 2                      # FLTR_DIRECTED | FLTR_BRDCST
        movw    $0x0b, %bx
        movw    $n_setfilter, %si
        call    api
        call    pinl
        .asciz  " filter=03"
        call    crlf
        # the station address is still ours
        call    get_information
        ret

# a few calls through the other entry point (PXENV+ RMEntry) when both exist
test_both_entries:
        cmpb    $0, have_bang
        je      1f
        cmpb    $0, have_pxenv
        je      1f
        movb    $1, via_pxenv
        movw    $2, %ax
        call    cached_one
        call    get_information
        call    pbclr
        movw    $0xff, %bx
        movw    $n_unknown, %si
        call    api
        call    crlf
        movb    $0, via_pxenv
        ret
1:      call    pinl
        .asciz  "apitest: only one entry point\r\n"
        ret

# --- TFTP ------------------------------------------------------------------------------------
# setfile: copies cfg_file (32 bytes) to DS:DI; setname: the 32 bytes at DS:SI
setfile:
        pushw   %si
        movw    $cfg_file, %si
        call    setname
        popw    %si
        ret
setname:
        pushal
        pushw   %es
        pushw   %ds
        popw    %es
        movw    $32, %cx
        rep movsb
        popw    %es
        popal
        ret

test_tftp:
        # GET_FSIZE
        call    pbclr
        movl    server_ip, %eax
        movl    %eax, pb + 2
        movw    $pb + 10, %di
        call    setfile
        movw    $0x25, %bx
        movw    $n_fsize, %si
        call    api
        call    pinl
        .asciz  " server="
        movl    pb + 2, %eax
        call    put_ip
        call    pinl
        .asciz  " filesize="
        movl    pb + 138, %eax
        call    hex32
        call    crlf

        # OPEN / READ... / CLOSE
        call    pbclr
        movl    server_ip, %eax
        movl    %eax, pb + 2
        movw    $pb + 10, %di
        call    setfile
        movw    $0x4500, pb + 138               # port 69, network order
        movw    $512, pb + 140
        movw    $0x20, %bx
        movw    $n_topen, %si
        call    api
        call    pinl
        .asciz  " packetsize="
        movw    pb + 140, %ax
        call    hex16
        call    crlf
        movw    pb + 140, %ax
        movw    %ax, tftp_psize
        call    okp
        jnz     9f
        movw    $0, t_packets
        movl    $0, t_bytes
        movw    $0, sum16
        movw    $0, t_first
1:      call    pbclr
        movw    $bigbuf, pb + 6
        movw    $0, pb + 8
        movw    $0x22, %bx
        call    rawcall
        call    okp
        jnz     2f
        cmpw    $0, t_packets
        jne     3f
        movw    pb + 2, %ax
        movw    %ax, t_first
3:      incw    t_packets
        movw    pb + 2, %ax
        movw    %ax, t_last
        movzwl  pb + 4, %eax
        addl    %eax, t_bytes
        movw    $bigbuf, %si
        movw    pb + 4, %cx
        cmpw    $BIG_SIZE, %cx
        jbe     4f
        movw    $BIG_SIZE, %cx
4:      call    sum_bytes
        movw    pb + 4, %ax
        cmpw    tftp_psize, %ax
        jb      2f
        cmpw    $8192, t_packets
        jb      1b
2:      movw    $n_tread, %si
        call    hdr
        call    pinl
        .asciz  " packets="
        movw    t_packets, %ax
        call    hex16
        call    pinl
        .asciz  " first="
        movw    t_first, %ax
        call    hex16
        call    pinl
        .asciz  " last="
        movw    t_last, %ax
        call    hex16
        call    pinl
        .asciz  " bytes="
        movl    t_bytes, %eax
        call    hex32
        call    pinl
        .asciz  " sum="
        movw    sum16, %ax
        call    hex16
        call    crlf
9:      call    pbclr
        movw    $0x21, %bx
        movw    $n_tclose, %si
        call    api
        call    crlf

        # READ_FILE to 2 MiB: BufferSize from the header (clamped), the whole area cleared
        # first, then read back with INT 15h AH=87h in 2 KiB chunks (byte sum and CRC-32)
        movl    cfg_rf_size, %eax
        testl   %eax, %eax
        jnz     1f
        movl    $RF_DEFAULT, %eax
1:      cmpl    $RF_MAX, %eax
        jbe     2f
        movl    $RF_MAX, %eax
2:      movl    %eax, rf_size
        call    bigclr
        movb    $0, bm_err
        movl    rf_size, %ecx
        movl    $HIGH_BUF, %edx
        movl    $bigbuf, %eax
5:      movw    %cx, %bp                        # ECX <= 8 MiB: bounded by RF_MAX / 2 KiB
        movw    $BIG_SIZE / 2, %cx
        call    bmove
        movw    %bp, %cx
        addl    $BIG_SIZE, %edx
        subl    $BIG_SIZE, %ecx
        ja      5b
        call    pbclr
        movw    $pb + 2, %di
        movw    $cfg_rf_file, %si
        cmpb    $0, (%si)
        jne     3f
        movw    $cfg_file, %si
3:      movw    %si, rf_name
        call    setname
        movl    rf_size, %eax
        movl    %eax, pb + 130
        movl    $HIGH_BUF, pb + 134
        movl    server_ip, %eax
        movl    %eax, pb + 138
        movw    $0x4500, pb + 152
        movw    $0x23, %bx
        movw    $n_treadf, %si
        call    api
        call    pinl
        .asciz  " file="
        pushw   %ds
        popw    %es
        movw    rf_name, %si
        movw    $32, %cx
        call    put_qstr
        call    pinl
        .asciz  " bufsize_in="
        movl    rf_size, %eax
        call    hex32
        call    pinl
        .asciz  " buffer="
        movl    pb + 134, %eax
        call    hex32
        call    pinl
        .asciz  " bufsize="
        movl    pb + 130, %eax
        call    hex32
        # read back min(BufferSize out, BufferSize in) bytes: byte sum and CRC-32
        movl    pb + 130, %eax
        cmpl    rf_size, %eax
        jbe     6f
        movl    rf_size, %eax
6:      movl    %eax, t_bytes
        movw    $0, sum16
        movl    $0xffffffff, crc
        movl    $HIGH_BUF, %eax
7:      cmpl    $0, t_bytes
        je      8f
        movl    $bigbuf, %edx
        movw    $BIG_SIZE / 2, %cx
        call    bmove
        movw    $BIG_SIZE, %cx
        cmpl    $BIG_SIZE, t_bytes
        jae     10f
        movw    t_bytes, %cx
10:     movw    $bigbuf, %si
        call    sum_bytes
        call    crc_bytes
        movzwl  %cx, %ecx
        subl    %ecx, t_bytes
        addl    $BIG_SIZE, %eax
        jmp     7b
8:      call    pinl
        .asciz  " readback=int15-87 bm="
        movb    bm_err, %al
        call    hex8
        call    pinl
        .asciz  " sum="
        movw    sum16, %ax
        call    hex16
        call    pinl
        .asciz  " crc="
        movl    crc, %eax
        notl    %eax
        call    hex32
        call    crlf
        ret

# bmove: copy CX words from physical EAX to physical EDX with INT 15h AH=87h; bm_err = AH|... on
# failure (kept sticky). Preserves all registers.
bmove:  pushal
        pushw   %es
        movw    $0xffff, g_src
        movw    %ax, g_src + 2
        shrl    $16, %eax
        movb    %al, g_src + 4
        movb    $0x93, g_src + 5
        movb    $0, g_src + 6
        movb    %ah, g_src + 7
        movw    $0xffff, g_dst
        movw    %dx, g_dst + 2
        shrl    $16, %edx
        movb    %dl, g_dst + 4
        movb    $0x93, g_dst + 5
        movb    $0, g_dst + 6
        movb    %dh, g_dst + 7
        pushw   %ds
        popw    %es
        movw    $gdt87, %si
        movb    $0x87, %ah
        int     $0x15
        jnc     1f
        orb     $0x80, %ah
        movb    %ah, %cs:bm_err
1:      popw    %es
        popal
        sti
        cld
        ret

# bigclr: zero bigbuf
bigclr: pushal
        pushw   %es
        pushw   %ds
        popw    %es
        movw    $bigbuf, %di
        movw    $BIG_SIZE, %cx
        xorb    %al, %al
        rep stosb
        popw    %es
        popal
        ret

# crc_bytes: CX bytes at DS:SI into crc (CRC-32, IEEE 802.3 polynomial, reflected, bit by bit;
# start with FFFFFFFFh, invert at the end)
crc_bytes:
        pushal
        jcxz    4f
        movl    crc, %edx
1:      lodsb
        xorb    %al, %dl
        movw    $8, %bx
2:      shrl    $1, %edx
        jnc     3f
        xorl    $0xedb88320, %edx
3:      decw    %bx
        jnz     2b
        loop    1b
        movl    %edx, crc
4:      popal
        ret

# sum_bytes: add CX bytes at DS:SI to sum16
sum_bytes:
        pushal
        jcxz    2f
        xorb    %ah, %ah
1:      lodsb
        addw    %ax, sum16
        loop    1b
2:      popal
        ret

# --- UDP -------------------------------------------------------------------------------------
test_udp:
        call    pbclr
        movw    $0x30, %bx
        movw    $n_uopen, %si
        call    api
        call    pinl
        .asciz  " src_ip="
        movl    pb + 2, %eax
        call    put_ip
        call    crlf
        # WRITE "apitest ping" to the boot server's echo port (lossy: again after ~1 s without
        # an answer, at most RESENDS times)
        movl    0x46c, %eax
        movl    %eax, t0
        movw    $0, tries
        movw    $0, writes
12:     call    pbclr
        movl    server_ip, %eax
        movl    %eax, pb + 2
        movw    cfg_src_port, %ax
        xchgb   %al, %ah
        movw    %ax, pb + 10
        movw    cfg_udp_port, %ax
        xchgb   %al, %ah
        movw    %ax, pb + 12
        movw    $12, pb + 14
        movw    $ping, pb + 16
        movw    $0, pb + 18
        movw    $0x33, %bx
        movw    $n_uwrite, %si
        call    api
        call    pinl
        .asciz  " ip="
        movl    pb + 2, %eax
        call    put_ip
        call    pinl
        .asciz  " src_port="
        movw    cfg_src_port, %ax
        call    hex16
        call    pinl
        .asciz  " dst_port="
        movw    cfg_udp_port, %ax
        call    hex16
        call    crlf
        incw    writes
        movl    0x46c, %eax
        movl    %eax, t1
        # READ with the port filters, polled for up to ~3 s from the first write
1:      call    pbclr
        call    bigclr
        movw    cfg_src_port, %ax
        xchgb   %al, %ah
        movw    %ax, pb + 12                    # d_port filter: our source port
        movw    cfg_udp_port, %ax
        xchgb   %al, %ah
        movw    %ax, pb + 10
        movw    $BIG_SIZE, pb + 14
        movw    $bigbuf, pb + 16
        movw    $0, pb + 18
        movw    $0x32, %bx
        call    rawcall
        incw    tries
        call    okp
        jz      2f
        cmpw    $60000, tries
        jae     2f
        movl    0x46c, %eax
        subl    t0, %eax
        cmpl    $TICKS_3S, %eax
        jae     2f
        testb   $LOSSY, cfg_flags
        jz      1b
        cmpw    $RESENDS, writes
        jae     1b
        movl    0x46c, %eax
        subl    t1, %eax
        cmpl    $TICKS_1S, %eax
        jb      1b
        jmp     12b
2:      movw    $n_uread, %si
        call    hdr
        call    pinl
        .asciz  " tries="
        movw    tries, %ax
        call    hex16
        call    pinl
        .asciz  " writes="
        movw    writes, %ax
        call    hex16
        call    okp
        jz      3f
        call    pinl
        .asciz  " timeout=1"
        jmp     4f
3:      call    pinl
        .asciz  " src_ip="
        movl    pb + 2, %eax
        call    put_ip
        call    pinl
        .asciz  " dest_ip="
        movl    pb + 6, %eax
        call    put_ip
        call    pinl
        .asciz  " s_port="
        movw    pb + 10, %ax
        xchgb   %al, %ah
        call    hex16
        call    pinl
        .asciz  " d_port="
        movw    pb + 12, %ax
        xchgb   %al, %ah
        call    hex16
        call    pinl
        .asciz  " buffer_size="
        movw    pb + 14, %ax
        call    hex16
        call    pinl
        .asciz  " payload="
        pushw   %ds
        popw    %es
        movw    $bigbuf, %si
        movw    pb + 14, %cx
        cmpw    $64, %cx
        jbe     5f
        movw    $64, %cx
5:      call    put_qstr
4:      call    crlf
        call    pbclr
        movw    $0x31, %bx
        movw    $n_uclose, %si
        call    api
        call    crlf
        ret

# --- calls a ROM may refuse --------------------------------------------------------------------
test_unsupported:
        call    pbclr
        movw    $0xff, %bx
        movw    $n_unknown, %si
        call    api
        call    crlf
        call    pbclr
        movw    $0x0f, %bx
        movw    $n_diags, %si
        call    api
        call    crlf
        call    pbclr
        movw    $0x75, %bx
        movw    $n_startbase, %si
        call    api
        call    crlf
        call    pbclr
        movw    $0x10, %bx
        movw    $n_forceint, %si
        call    api
        call    crlf
        call    pbclr
        movw    $0x24, %bx
        movw    $n_pmode, %si
        call    api
        call    crlf
        call    pbclr
        movw    $0x72, %bx
        movw    $n_rdhcp, %si
        call    api
        call    crlf
        call    pbclr
        movw    $0x74, %bx
        movw    $n_mswitch, %si
        call    api
        call    crlf
        ret

# --- raw UNDI: close/open, transmit an ARP request, poll UNDI_ISR for the reply ----------------
test_undi_raw:
        call    pbclr
        movw    $0x07, %bx
        movw    $n_uclose2, %si
        call    api
        call    crlf
        call    pbclr
        movw    $3, pb + 4                      # PktFilter: directed | broadcast
        movw    $0x06, %bx
        movw    $n_undiopen, %si
        call    api
        call    pinl
        .asciz  " pktfilter=0003"
        call    crlf
        # the ARP request
        pushw   %ds
        popw    %es
        movw    $arpframe, %di
        movw    $0xffff, %ax
        stosw
        stosw
        stosw
        movw    $my_mac, %si
        movw    $6, %cx
        rep movsb
        movl    $0x01000608, %eax               # 08 06 00 01: ARP, Ethernet
        stosl
        movl    $0x04060008, %eax               # 08 00 06 04: IPv4, hlen, plen
        stosl
        movw    $0x0100, %ax                    # op 1: request
        stosw
        movw    $my_mac, %si
        movw    $6, %cx
        rep movsb
        movl    my_ip, %eax
        stosl
        xorw    %ax, %ax
        stosw
        stosw
        stosw
        movl    server_ip, %eax
        stosl
        movw    $42, tbd                        # ImmedLength
        movw    $arpframe, tbd + 2
        movw    $0, tbd + 4
        movw    $0, tbd + 6                     # DataBlkCount
        movl    0x46c, %eax
        movl    %eax, t0
        movw    $0, isr_polls
        movw    $0, isr_tx
        movw    $0, isr_rx
        movw    $0, isr_lines
        movw    $0, arp_tx
        movb    $0, arp_found
        # (lossy: sent again after ~1 s without a reply, at most RESENDS times)
12:     call    pbclr
        movb    $0, pb + 2                      # P_UNKNOWN: the frame has its media header
        movb    $1, pb + 3                      # XMT_BROADCAST
        movw    $tbd, pb + 8
        movw    $0, pb + 10
        movw    $0x08, %bx
        movw    $n_xmit, %si
        call    api
        call    pinl
        .asciz  " protocol=00 xmitflag=01 len=002A target="
        movl    server_ip, %eax
        call    put_ip
        call    crlf
        incw    arp_tx
        movl    0x46c, %eax
        movl    %eax, t1

1:      call    pbclr
        movw    $1, pb + 2                      # IN_START
        movw    $0x14, %bx
        call    rawcall
        incw    isr_polls
        cmpw    $1, isr_polls
        jne     2f
        movw    $n_isr, %si
        call    hdr
        call    pinl
        .asciz  " in=0001 out="
        movw    pb + 2, %ax
        call    hex16
        call    crlf
2:      call    okp
        jnz     8f
        cmpw    $0, pb + 2                      # OUT_OURS
        jne     8f
        movw    $2, %dx                         # IN_PROCESS, then IN_GET_NEXT
        movw    $64, %bp
3:      call    pbclr
        movw    %dx, pb + 2
        movw    $0x14, %bx
        call    rawcall
        movw    pb + 2, %ax
        cmpw    $0, %ax                         # OUT_DONE
        je      8f
        call    okp
        jnz     8f
        cmpw    $2, %ax
        jne     4f
        incw    isr_tx
4:      cmpw    $3, %ax
        jne     5f
        incw    isr_rx
5:      cmpw    $24, isr_lines
        jae     6f
        incw    isr_lines
        movb    $1, line_open
        movw    $n_isr, %si
        call    hdr
        call    pinl
        .asciz  " in="
        movw    %dx, %ax
        call    hex16
        call    pinl
        .asciz  " out="
        movw    pb + 2, %ax
        call    hex16
        call    pinl
        .asciz  " buflen="
        movw    pb + 4, %ax
        call    hex16
        call    pinl
        .asciz  " framelen="
        movw    pb + 6, %ax
        call    hex16
        call    pinl
        .asciz  " hdrlen="
        movw    pb + 8, %ax
        call    hex16
        call    pinl
        .asciz  " frame="
        movw    pb + 12, %ax
        call    hex16
        call    pinl
        .asciz  ":"
        movw    pb + 10, %ax
        call    hex16
        call    pinl
        .asciz  " prot="
        movb    pb + 14, %al
        call    hex8
        call    pinl
        .asciz  " pkt="
        movb    pb + 15, %al
        call    hex8
6:      cmpw    $3, pb + 2
        jne     7f
        cmpw    $42, pb + 4
        jb      7f
        les     pb + 10, %di
        cmpw    $0x0608, %es:12(%di)
        jne     7f
        cmpw    $0x0200, %es:20(%di)
        jne     7f
        movl    %es:28(%di), %eax
        cmpl    server_ip, %eax
        jne     7f
        movb    $1, arp_found
        movl    %eax, arp_ip
        movl    %es:22(%di), %eax
        movl    %eax, arp_mac
        movw    %es:26(%di), %ax
        movw    %ax, arp_mac + 4
        cmpb    $0, line_open
        je      7f
        call    pinl
        .asciz  " arp-reply-from="
        movl    arp_ip, %eax
        call    put_ip
7:      cmpb    $0, line_open
        je      71f
        movb    $0, line_open
        call    crlf
71:     cmpw    $4, pb + 2                      # OUT_BUSY: poll again later
        je      8f
        movw    $3, %dx
        decw    %bp
        jnz     3b
8:      cmpb    $0, arp_found
        jne     9f
        cmpw    $60000, isr_polls
        jae     9f
        movl    0x46c, %eax
        subl    t0, %eax
        cmpl    $TICKS_3S, %eax
        jae     9f
        testb   $LOSSY, cfg_flags
        jz      1b
        cmpw    $RESENDS, arp_tx
        jae     1b
        movl    0x46c, %eax
        subl    t1, %eax
        cmpl    $TICKS_1S, %eax
        jb      1b
        jmp     12b
9:      call    pinl
        .asciz  "apitest: ARP "
        cmpb    $0, arp_found
        je      10f
        call    pinl
        .asciz  "arp-reply-from="
        movl    arp_ip, %eax
        call    put_ip
        call    pinl
        .asciz  " mac="
        pushw   %ds
        popw    %es
        movw    $arp_mac, %si
        call    put_mac
        jmp     11f
10:     call    pinl
        .asciz  "arp-reply=none"
11:     call    pinl
        .asciz  " polls="
        movw    isr_polls, %ax
        call    hex16
        call    pinl
        .asciz  " transmit="
        movw    isr_tx, %ax
        call    hex16
        call    pinl
        .asciz  " receive="
        movw    isr_rx, %ax
        call    hex16
        call    pinl
        .asciz  " requests="
        movw    arp_tx, %ax
        call    hex16
        call    crlf
        ret

# --- the end: unload the stack -----------------------------------------------------------------
test_unload:
        call    pbclr
        movw    $0x76, %bx
        movw    $n_stopbase, %si
        call    api
        call    crlf
        call    pbclr
        movw    $0x02, %bx
        movw    $n_cleanup, %si
        call    api
        call    crlf
        call    pbclr
        movw    $0x05, %bx
        movw    $n_shutdown, %si
        call    api
        call    crlf
        call    pbclr
        movw    $0x70, %bx
        movw    $n_unload, %si
        call    api
        call    crlf
        call    pbclr
        movw    $0x15, %bx
        movw    $n_stopundi, %si
        call    api
        call    crlf
        int     $0x12
        movzwl  %ax, %eax
        call    pinl
        .asciz  "apitest: base memory after unload "
        call    dec32
        call    pinl
        .asciz  " KiB"
        call    crlf
        ret

# --- COM1 output -------------------------------------------------------------------------------
serial_init:
        pushw   %ax
        pushw   %dx
        movw    $0x3f9, %dx
        xorb    %al, %al
        outb    %al, %dx                        # no interrupts
        movw    $0x3fb, %dx
        movb    $0x80, %al
        outb    %al, %dx                        # DLAB
        movw    $0x3f8, %dx
        movb    $1, %al
        outb    %al, %dx                        # divisor 1: 115200
        movw    $0x3f9, %dx
        xorb    %al, %al
        outb    %al, %dx
        movw    $0x3fb, %dx
        movb    $3, %al
        outb    %al, %dx                        # 8N1
        movw    $0x3fc, %dx
        movb    $3, %al
        outb    %al, %dx                        # DTR, RTS
        popw    %dx
        popw    %ax
        ret

# putc: AL; preserves all registers
putc:   pushw   %dx
        pushw   %cx
        pushw   %ax
        movw    $0x3fd, %dx
        movw    $0xffff, %cx
1:      inb     %dx, %al
        testb   $0x20, %al
        loopz   1b
        popw    %ax
        movw    $0x3f8, %dx
        outb    %al, %dx
        popw    %cx
        popw    %dx
        ret

# puts: DS:SI, NUL-terminated; preserves all registers
puts:   pushw   %si
        pushw   %ax
1:      lodsb
        testb   %al, %al
        jz      2f
        call    putc
        jmp     1b
2:      popw    %ax
        popw    %si
        ret

# pinl: prints the NUL-terminated string that follows the call; preserves all registers
pinl:   pushw   %bp
        movw    %sp, %bp
        pushw   %si
        pushw   %ax
        movw    2(%bp), %si
1:      movb    %cs:(%si), %al
        incw    %si
        testb   %al, %al
        jz      2f
        call    putc
        jmp     1b
2:      movw    %si, 2(%bp)
        popw    %ax
        popw    %si
        popw    %bp
        ret

crlf:   call    pinl
        .asciz  "\r\n"
        ret

# hexn: the low CX (1..8) nibbles of EAX in hex; preserves all registers
hexn:   pushal
        movl    %eax, %edx
        movw    %cx, %bx
        movw    $8, %cx
        subw    %bx, %cx
        shlw    $2, %cx
        shll    %cl, %edx
1:      roll    $4, %edx
        movb    %dl, %al
        andb    $0x0f, %al
        addb    $'0', %al
        cmpb    $'9', %al
        jbe     2f
        addb    $7, %al
2:      call    putc
        decw    %bx
        jnz     1b
        popal
        ret
hex8:   pushw   %cx
        movw    $2, %cx
        call    hexn
        popw    %cx
        ret
hex16:  pushw   %cx
        movw    $4, %cx
        call    hexn
        popw    %cx
        ret
hex32:  pushw   %cx
        movw    $8, %cx
        call    hexn
        popw    %cx
        ret

# dec32: EAX in decimal; preserves all registers
dec32:  pushal
        movl    $10, %ebx
        xorw    %cx, %cx
1:      xorl    %edx, %edx
        divl    %ebx
        pushw   %dx
        incw    %cx
        testl   %eax, %eax
        jnz     1b
2:      popw    %ax
        addb    $'0', %al
        call    putc
        loop    2b
        popal
        ret

# put_ip: EAX = IPv4 address as stored in memory (first octet in AL); dotted decimal
put_ip: pushal
        movl    %eax, %edx
        movw    $4, %cx
1:      movzbl  %dl, %eax
        call    dec32
        shrl    $8, %edx
        decw    %cx
        jz      2f
        movb    $'.', %al
        call    putc
        jmp     1b
2:      popal
        ret

# put_mac: 6 bytes at ES:SI as 12 hex digits
put_mac:
        pushal
        movw    $6, %cx
1:      movb    %es:(%si), %al
        call    hex8
        incw    %si
        loop    1b
        popal
        ret

# put_qstr: at most CX bytes at ES:SI up to a NUL, quoted; bytes outside 0x20..0x7E (and the
# quote and backslash) as '.'
put_qstr:
        pushal
        movb    $'"', %al
        call    putc
        jcxz    3f
1:      movb    %es:(%si), %al
        testb   %al, %al
        jz      3f
        cmpb    $0x20, %al
        jb      2f
        cmpb    $0x7e, %al
        ja      2f
        cmpb    $'"', %al
        je      2f
        cmpb    $0x5c, %al
        je      2f
        jmp     4f
2:      movb    $'.', %al
4:      call    putc
        incw    %si
        loop    1b
3:      movb    $'"', %al
        call    putc
        popal
        ret

# --- data ----------------------------------------------------------------------------------------
n_gci:          .asciz "GET_CACHED_INFO"
n_iface:        .asciz "UNDI_GET_IFACE_INFO"
n_info:         .asciz "UNDI_GET_INFORMATION"
n_nic:          .asciz "UNDI_GET_NIC_TYPE"
n_stat:         .asciz "UNDI_GET_STATISTICS"
n_clrstat:      .asciz "UNDI_CLEAR_STATISTICS"
n_mcast:        .asciz "UNDI_GET_MCAST_ADDRESS"
n_fsize:        .asciz "TFTP_GET_FSIZE"
n_topen:        .asciz "TFTP_OPEN"
n_tread:        .asciz "TFTP_READ"
n_tclose:       .asciz "TFTP_CLOSE"
n_treadf:       .asciz "TFTP_READ_FILE"
n_uopen:        .asciz "UDP_OPEN"
n_uwrite:       .asciz "UDP_WRITE"
n_uread:        .asciz "UDP_READ"
n_uclose:       .asciz "UDP_CLOSE"
n_unknown:      .asciz "UNKNOWN_00FF"
n_diags:        .asciz "UNDI_INITIATE_DIAGS"
n_startbase:    .asciz "START_BASE"
n_uclose2:      .asciz "UNDI_CLOSE"
n_undiopen:     .asciz "UNDI_OPEN"
n_xmit:         .asciz "UNDI_TRANSMIT"
n_isr:          .asciz "UNDI_ISR"
n_stopbase:     .asciz "STOP_BASE"
n_shutdown:     .asciz "UNDI_SHUTDOWN"
n_unload:       .asciz "UNLOAD_STACK"
n_stopundi:     .asciz "STOP_UNDI"
n_startundi:    .asciz "START_UNDI"
n_startup:      .asciz "UNDI_STARTUP"
n_init:         .asciz "UNDI_INITIALIZE"
n_reset:        .asciz "UNDI_RESET_ADAPTER"
n_setmcast:     .asciz "UNDI_SET_MCAST_ADDRESS"
n_setsta:       .asciz "UNDI_SET_STATION_ADDRESS"
n_setfilter:    .asciz "UNDI_SET_PACKET_FILTER"
n_forceint:     .asciz "UNDI_FORCE_INTERRUPT"
n_pmode:        .asciz "TFTP_READ_FILE_PMODE"
n_rdhcp:        .asciz "RESTART_DHCP"
n_mswitch:      .asciz "MODE_SWITCH"
n_cleanup:      .asciz "UNDI_CLEANUP"
n_restart:      .asciz "RESTART_TFTP"
n_nbpfile:      .asciz "apitest.0"
ping:           .ascii "apitest ping"

        .balign 4
in_es:          .word 0
in_bx:          .word 0
in_ss:          .word 0
in_sp:          .word 0
in_pxe:         .long 0
bang_entry:     .long 0
pxenv_entry:    .long 0
pxenv_pxeptr:   .long 0
i1a_ax:         .word 0
i1a_es:         .word 0
i1a_bx:         .word 0
i1a_cf:         .byte 0
have_bang:      .byte 0
have_pxenv:     .byte 0
have_api:       .byte 0
via_pxenv:      .byte 0
last_via:       .byte 0
bm_err:         .byte 0
arp_found:      .byte 0
line_open:      .byte 0
        .balign 4
last_op:        .word 0
last_ax:        .word 0
e820_count:     .word 0
my_ip:          .long 0
ack_siaddr:     .long 0
reply_siaddr:   .long 0
server_ip:      .long 0
my_mac:         .fill 8, 1, 0
arp_ip:         .long 0
arp_mac:        .fill 8, 1, 0
t0:             .long 0
t_bytes:        .long 0
t_packets:      .word 0
t_first:        .word 0
t_last:         .word 0
tftp_psize:     .word 0
sum16:          .word 0
rf_name:        .word 0
        .balign 4
rf_size:        .long 0
crc:            .long 0
t1:             .long 0
writes:         .word 0
arp_tx:         .word 0
tries:          .word 0
isr_polls:      .word 0
isr_tx:         .word 0
isr_rx:         .word 0
isr_lines:      .word 0
last_line:      .word 0
nic_bdf:        .word 0
        .balign 16
e820_buf:       .fill 32, 1, 0
gdt87:          .fill 16, 1, 0
g_src:          .fill 8, 1, 0
g_dst:          .fill 8, 1, 0
                .fill 16, 1, 0
tbd:            .fill 16, 1, 0
arpframe:       .fill 64, 1, 0
pb:             .fill PB_SIZE, 1, 0
bigbuf:         .fill BIG_SIZE, 1, 0
stack:          .fill 4096, 1, 0
stack_top:
