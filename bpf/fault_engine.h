// The tc fault engine's maps and ring records, as bpf/fault_engine.bpf.c uses them and
// Sources/NetfaultKernel/Faults/KernelFaults.swift writes and reads them (offsets in
// comments; every field in the host's byte order; addresses as two big-endian words read
// as numbers, IPv4 in the low word's low 32 bits, as `PacketAddress` holds them).
// Sources/CNetfaultBPF/libbpf_shim.c includes it too, for its _Static_asserts.
#ifndef NETFAULT_FAULT_ENGINE_H
#define NETFAULT_FAULT_ENGINE_H

#define NF_MAX_RULES 16
#define NF_MAX_IMPAIRMENTS 8
#define NF_KEPT_BYTES 128
// The segments of one GSO packet the egress program decides one by one; a packet with more
// (a GSO packet cut into segments of fewer than 65 536 / 512 bytes) has its tail decided
// as one last segment.
#define NF_MAX_GSO_SEGMENTS 512

// Segment kinds (`SegmentKind`); NF_KIND_EVERY_PACKET: any IP packet, TCP or not (partitions).
enum nf_kind {
    NF_KIND_EVERY_PACKET = 0,
    NF_KIND_SYN = 1,
    NF_KIND_SYN_ACK = 2,
    NF_KIND_HANDSHAKE_ACK = 3,
    NF_KIND_PURE_ACK = 4,
    NF_KIND_DATA = 5,
    NF_KIND_FIN = 6,
    NF_KIND_FIN_ACK = 7,
    NF_KIND_RST = 8,
    NF_KIND_ANY = 9,
};

// `Occurrence`
enum nf_occurrence { NF_OCC_ALL = 0, NF_OCC_NTH = 1, NF_OCC_FIRST = 2, NF_OCC_EVERY_NTH = 3, NF_OCC_AFTER_NTH = 4 };

enum nf_action {
    NF_ACT_DROP = 1,
    NF_ACT_DELAY = 2,
    NF_ACT_DUPLICATE = 3,
    NF_ACT_CORRUPT = 4,   // impairments only
    NF_ACT_REORDER = 5,   // impairments only: sent at once, ahead of the delayed ones
};

// Array map `config`, one entry.
struct nf_engine_config {
    __u64 t0_ns;             //  0 CLOCK_MONOTONIC instant of the scenario's start
    __u64 seed;              //  8 the host's seed
    __u64 clock_override_ns; // 16 0: bpf_ktime_get_ns; else the differential test's clock, read
                             //    from skb->cb[0..1] of each test run (duplicates are then
                             //    recorded, not sent)
    __u32 skip_mark;         // 24 packets with this mark pass untouched (netfault's own, duplicates)
    __u32 rule_count;        // 28
    __u32 impairment_count;  // 32
    __u32 flags;             // 36 NF_CONFIG_* bits
};                           // 40

// Some rule may match a data segment that carries no FIN (kinds data, any, every packet), or
// an impairment draws for every segment: a GSO packet's segments are each decided. Without
// it only the last (the one that may carry the FIN) can be acted on or counted.
#define NF_CONFIG_EVERY_SEGMENT 1

// Array map `rules`: `KernelFaultRule`.
struct nf_fault_rule {
    __u64 window_start_ns;   //  0 since t0, inclusive
    __u64 window_end_ns;     //  8 since t0, exclusive (~0: open)
    __u64 delay_ns;          // 16 NF_ACT_DELAY
    __u32 ifindex;           // 24 0: any
    __u32 operand;           // 28 the occurrence's n
    __u16 port;              // 32 either end; 0: any
    __u8 kind;               // 34 enum nf_kind
    __u8 occurrence;         // 35 enum nf_occurrence
    __u8 action;             // 36 enum nf_action
    __u8 has_destinations;   // 37 1: only to addresses in `destinations` under this rule
    __u8 pad[2];             // 38
};                           // 40

// Array map `impairments`: `KernelImpairment`. A threshold hits when the purpose's hash is
// below it; ~0 always hits, 0 never.
struct nf_impairment {
    __u64 delay_ns;            //  0
    __u64 jitter_ns;           //  8
    __u64 loss_threshold;      // 16
    __u64 duplicate_threshold; // 24
    __u64 corrupt_threshold;   // 32
    __u64 reorder_threshold;   // 40
    __u32 ifindex;             // 48 the interface it impairs (egress)
    __u32 pad;                 // 52
};                             // 56

// One direction of a flow (`FlowKey`).
struct nf_flow {
    __u64 src_high;   //  0
    __u64 src_low;    //  8
    __u64 dst_high;   // 16
    __u64 dst_low;    // 24
    __u16 sport;      // 32
    __u16 dport;      // 34
    __u8 transport;   // 36
    __u8 family;      // 37 4 or 6
    __u8 pad[2];      // 38
};                    // 40

// Hash `destinations`: present when rule `rule` may act on packets to this address.
struct nf_destination_key {
    __u32 rule;       //  0
    __u32 family;     //  4 4 or 6
    __u64 high;       //  8
    __u64 low;        // 16
};                    // 24

// Hash `occurrences`: how many segments of `flow` rule `rule` counted.
struct nf_occurrence_key {
    struct nf_flow flow; //  0
    __u32 rule;          // 40
    __u32 pad;           // 44
};                       // 48

// Hash `classes`: what `SegmentClassifier` remembers of one flow.
struct nf_class_state {
    __u32 syn_seq;         //  0 this direction's SYN
    __u32 handshake_ack;   //  4 what its first handshake ACK acknowledged
    __u32 fin_end;         //  8 just past its FIN
    __u8 has_syn;          // 12
    __u8 has_handshake_ack;// 13
    __u8 sent_data;        // 14
    __u8 has_fin;          // 15
};                         // 16

// Hash `identities`: what `SegmentIdentity` keeps of one flow.
struct nf_identity_state {
    __u32 isn;            //  0
    __u32 highest_end;    //  4
    __u32 last_ack;       //  8
    __u32 ack_repeats;    // 12
    __u32 ack_base;       // 16 the first acknowledgment number the flow sent
    __u32 packets;        // 20 non-TCP: packets so far
    __u8 has_isn;         // 24
    __u8 has_end;         // 25
    __u8 has_ack;         // 26
    __u8 has_ack_base;    // 27
    __u32 pad;            // 28
};                        // 32

// LRU `retransmissions`: how many times (flow, seq) went again after its first transmission.
struct nf_retransmission_key {
    struct nf_flow flow;  //  0
    __u32 seq;            // 40
    __u32 pad;            // 44
};                        // 48

// LRU `pending`: what the peer's ingress program must do to one segment of a GSO packet
// (key: the segment's flow and sequence number, as `nf_retransmission_key`). Egress decides
// on a GSO packet's segments before the device cuts it; only the other end of the link sees
// them one by one (netfault's links have segmentation offloads off), and acts there.
struct nf_pending_action {
    __u64 identity;       //  0 the segment's identity (a corruption's bit)
    __u8 actions;         //  8 NF_PENDING_* bits
    __u8 pad[7];          //  9
};                        // 16

enum { NF_PENDING_DROP = 1, NF_PENDING_DUPLICATE = 2, NF_PENDING_CORRUPT = 4 };

// Ring `decisions`: one per thing a rule or impairment did (`KernelFaultDecision`).
struct nf_fault_decision {
    __u64 time_ns;        //   0 bpf_ktime_get_ns at the hook (or the clock override)
    __u64 delay_ns;       //   8 NF_ACT_DELAY
    __u64 src_high;       //  16
    __u64 src_low;        //  24
    __u64 dst_high;       //  32
    __u64 dst_low;        //  40
    __u32 seq;            //  48
    __u32 ack;            //  52
    __u32 length;         //  56 payload bytes (from the IP header: a GSO packet's whole payload)
    __u32 ifindex;        //  60
    __u32 transmission;   //  64 the identity's transmission (0 when the host has no impairment)
    __u16 sport;          //  68
    __u16 dport;          //  70
    __u16 index;          //  72 rule or impairment index
    __u8 source;          //  74 1: rule, 2: impairment
    __u8 action;          //  75 enum nf_action
    __u8 flags;           //  76 TCP flags (FIN 0x01 … ACK 0x10)
    __u8 transport;       //  77
    __u8 family;          //  78 4 or 6
    __u8 packet_length;   //  79 bytes of `packet` (drops only)
    __u16 gso_segs;       //  80 1 for a TCP segment (a GSO packet's are decided one by one);
                          //     a non-TCP GSO packet's skb->gso_segs
    __u8 at_peer;         //  82 1: carried out by fault_peer at the link's other end (0 by the host's detour)
    __u8 pad;             //  83
    __u32 pad2;           //  84
    __u8 packet[NF_KEPT_BYTES]; // 88 a dropped packet from the IP header on
};                        // 216

#endif
