// One record in the ring buffer, as the BPF programs write it and
// Sources/NetfaultKernel/Events/TCPEventDecoder.swift reads it (offsets in comments;
// multi-byte fields in the host's byte order unless said otherwise).
#ifndef NETFAULT_TCP_EVENTS_H
#define NETFAULT_TCP_EVENTS_H

enum nf_event_kind {
    NF_EVENT_STATE = 1,            // inet_sock_set_state
    NF_EVENT_RETRANSMIT = 2,       // tcp_retransmit_skb (data, SYN, FIN)
    NF_EVENT_RETRANSMIT_SYNACK = 3,// tcp_retransmit_synack
    NF_EVENT_SEND_RESET = 4,       // tcp_send_reset
    NF_EVENT_RECEIVE_RESET = 5,    // tcp_receive_reset
    NF_EVENT_DROP = 6,             // kfree_skb of a TCP segment
    NF_EVENT_DEPARTURE = 7,        // a retransmission held in a queue (a fault's) left the device
};

#define NF_NO_REASON 0xffffffffu

struct nf_tcp_event {
    __u64 time_ns;     //  0 bpf_ktime_get_ns: CLOCK_MONOTONIC
    __u32 netns;       //  8 the network namespace's inode
    __u32 seq;         // 12 absolute sequence number
    __u32 ack;         // 16 absolute acknowledgment number (drops only)
    __u32 reason;      // 20 drop or reset reason (enum value of this kernel), or NF_NO_REASON
    __u16 sport;       // 24 local port (for drops: the segment's source port)
    __u16 dport;       // 26 remote port (for drops: the segment's destination port)
    __u16 length;      // 28 payload bytes (retransmissions and drops)
    __u8 kind;         // 30 enum nf_event_kind
    __u8 family;       // 31 AF_INET (2) or AF_INET6 (10)
    __u8 old_state;    // 32 TCP_* states (state events)
    __u8 new_state;    // 33
    __u8 tcp_flags;    // 34 FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
    __u8 pad;          // 35
    __u8 saddr[16];    // 36 local address (drops: source); IPv4 in the first 4 bytes
    __u8 daddr[16];    // 52 remote address (drops: destination)
    __u32 pad2;        // 68
    __u64 sock;        // 72 the socket's kernel address, its identity while it lives (0 for drops;
                       //    retransmissions and departures: the sending socket, a request one for SYN-ACKs)
    __u64 stamped_ns;  // 80 retransmissions of queued segments: when TCP stamped the transmission
                       //    (skb_mstamp_ns, CLOCK_MONOTONIC), before it went down the stack; else 0
    __u64 departed_ns; // 88 retransmissions and departures: when the device took this transmission
                       //    (CLOCK_MONOTONIC); 0 when it had not yet left at the tracepoint
};                     // 96 bytes

#endif
