# apitest.0, header flag bit 2: the receive-filter step (docs/api-test-nbp.md, "RXFILTER").
# Appended to apitest.s (same section, same helpers: api, rawcall, pbclr, okp, pinl, hex16).
#
# A sender on the network keeps sending frames to four destinations: the multicast group
# 01:00:5E:01:02:03 (239.1.2.3, subscribed), 01:00:5E:01:02:04 (239.1.2.4, not subscribed), the
# new station address rf_new and the NIC's own address. After each filter change this counts,
# through polled UNDI_ISR, which of them arrive and prints one RXFILTER line per phase:
#   open     UNDI_OPEN directed|broadcast with the list {01:00:5E:01:02:03}
#   station  SET_STATION_ADDRESS rf_new
#   promisc  SET_PACKET_FILTER directed|broadcast|promiscuous
#   nomcast  SET_PACKET_FILTER directed|broadcast, SET_MCAST_ADDRESS with an empty list
# Then the permanent address goes back and UNDI_CLOSE ends it.
        .code16
        .section .nbp, "awx"

        .set    RF_DRAIN_TICKS, 4               # ~0.2 s: frames of the old setting go by
        .set    RF_COUNT_TICKS, 18              # ~1 s of counting

test_rxfilter:
        call    test_undi_info                  # also learns my_mac (the permanent address)
        call    pbclr
        movw    $0x07, %bx
        movw    $n_uclose2, %si
        call    api
        call    crlf
        call    pbclr
        movw    $3, pb + 4                      # PktFilter: directed | broadcast
        movw    $1, pb + 6                      # MCastAddrCount
        movl    rf_group, %eax
        movl    %eax, pb + 8
        movw    rf_group + 4, %ax
        movw    %ax, pb + 12
        movw    $0x06, %bx
        movw    $n_undiopen, %si
        call    api
        call    pinl
        .asciz  " pktfilter=0003 mcastcount=0001 mcast=01005E010203"
        call    crlf
        movw    $rf_p_open, %si
        call    rx_count

        movw    $rf_new, %si
        call    rf_set_station
        movw    $rf_p_station, %si
        call    rx_count

        movb    $7, %al
        call    rf_set_filter
        movw    $rf_p_promisc, %si
        call    rx_count

        movb    $3, %al
        call    rf_set_filter
        call    pbclr                           # MCastAddrCount 0
        movw    $0x09, %bx
        movw    $n_setmcast, %si
        call    api
        call    pinl
        .asciz  " mcastcount=0000"
        call    crlf
        movw    $rf_p_nomcast, %si
        call    rx_count

        movw    $my_mac, %si
        call    rf_set_station
        call    pbclr
        movw    $0x07, %bx
        movw    $n_uclose2, %si
        call    api
        call    crlf
        ret

# rf_set_station: SET_STATION_ADDRESS to the 6 bytes at DS:SI
rf_set_station:
        pushw   %si
        call    pbclr
        movl    (%si), %eax
        movl    %eax, pb + 2
        movw    4(%si), %ax
        movw    %ax, pb + 6
        movw    $0x0a, %bx
        movw    $n_setsta, %si
        call    api
        call    pinl
        .asciz  " mac="
        popw    %si
        pushw   %ds
        popw    %es
        call    put_mac
        call    crlf
        ret

# rf_set_filter: SET_PACKET_FILTER to AL
rf_set_filter:
        call    pbclr
        movb    %al, pb + 2
        movw    $0x0b, %bx
        movw    $n_setfilter, %si
        call    api
        call    pinl
        .asciz  " filter="
        movb    pb + 2, %al                     # the call leaves the field alone
        call    hex8
        call    crlf
        ret

# rx_count: drain, then count frames by destination for ~1 s; SI = phase name
rx_count:
        movw    $rf_sub, %di                    # zero the five counters and the poll count
        pushw   %ds
        popw    %es
        xorw    %ax, %ax
        movw    $6, %cx
        rep stosw
        movb    $0, rf_counting
        movl    0x46c, %eax
        movl    %eax, t0
1:      call    rx_poll_once
        incw    rf_loops
        cmpw    $60000, rf_loops
        jae     3f
        movl    0x46c, %eax
        subl    t0, %eax
        cmpb    $0, rf_counting
        jne     2f
        cmpl    $RF_DRAIN_TICKS, %eax
        jb      1b
        movb    $1, rf_counting
        movl    0x46c, %eax
        movl    %eax, t0
        jmp     1b
2:      cmpl    $RF_COUNT_TICKS, %eax
        jb      1b
3:      call    pinl
        .asciz  "apitest: RXFILTER phase="
        call    puts
        call    pinl
        .asciz  " sub="
        movw    rf_sub, %ax
        call    hex16
        call    pinl
        .asciz  " unsub="
        movw    rf_unsub, %ax
        call    hex16
        call    pinl
        .asciz  " new="
        movw    rf_newc, %ax
        call    hex16
        call    pinl
        .asciz  " old="
        movw    rf_old, %ax
        call    hex16
        call    pinl
        .asciz  " other="
        movw    rf_other, %ax
        call    hex16
        call    pinl
        .asciz  " polls="
        movw    rf_loops, %ax
        call    hex16
        call    crlf
        ret

# rx_poll_once: IN_START, then IN_PROCESS / IN_GET_NEXT until DONE (at most 64 events);
# received frames are classified while rf_counting is set
rx_poll_once:
        call    pbclr
        movw    $1, pb + 2                      # IN_START
        movw    $0x14, %bx
        call    rawcall
        call    okp
        jnz     9f
        cmpw    $0, pb + 2                      # OUT_OURS
        jne     9f
        movw    $2, %dx                         # IN_PROCESS, then IN_GET_NEXT
        movw    $64, %bp
3:      call    pbclr
        movw    %dx, pb + 2
        movw    $0x14, %bx
        call    rawcall
        call    okp
        jnz     9f
        movw    pb + 2, %ax
        cmpw    $0, %ax                         # OUT_DONE
        je      9f
        cmpw    $4, %ax                         # OUT_BUSY
        je      9f
        cmpw    $3, %ax                         # OUT_RECEIVE
        jne     5f
        cmpb    $0, rf_counting
        je      5f
        cmpw    $6, pb + 4                      # BufferLength
        jb      5f
        les     pb + 10, %di                    # Frame
        call    rf_classify
5:      movw    $3, %dx
        decw    %bp
        jnz     3b
9:      ret

# rf_classify: ES:DI -> a received frame; counts it by its destination address
rf_classify:
        pushw   %si
        movw    $rf_group, %si
        call    rf_cmp6
        jne     1f
        incw    rf_sub
        jmp     9f
1:      movw    $rf_group2, %si
        call    rf_cmp6
        jne     2f
        incw    rf_unsub
        jmp     9f
2:      movw    $rf_new, %si
        call    rf_cmp6
        jne     3f
        incw    rf_newc
        jmp     9f
3:      movw    $my_mac, %si
        call    rf_cmp6
        jne     4f
        incw    rf_old
        jmp     9f
4:      incw    rf_other
9:      popw    %si
        ret

# rf_cmp6: ZF set if the 6 bytes at DS:SI equal those at ES:DI; preserves SI, DI, CX
rf_cmp6:
        pushw   %si
        pushw   %di
        pushw   %cx
        movw    $6, %cx
        repe cmpsb
        popw    %cx
        popw    %di
        popw    %si
        ret

rf_group:       .byte 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03
rf_group2:      .byte 0x01, 0x00, 0x5e, 0x01, 0x02, 0x04
rf_new:         .byte 0x02, 0x50, 0x58, 0x46, 0x4c, 0x54
rf_p_open:      .asciz "open"
rf_p_station:   .asciz "station"
rf_p_promisc:   .asciz "promisc"
rf_p_nomcast:   .asciz "nomcast"
rf_counting:    .byte 0
        .balign 2
rf_sub:         .word 0
rf_unsub:       .word 0
rf_newc:        .word 0
rf_old:         .word 0
rf_other:       .word 0
rf_loops:       .word 0
