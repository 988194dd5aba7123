// netfault's fault engine in the kernel: tc (clsact) programs on a faulted host's
// interfaces. `fault_egress` decides on every segment leaving (drop, delay by earliest
// departure time, duplicate, corrupt) exactly as the Swift `VerdictEngine` does — it is
// the specification, and Tests/NetfaultTests/Faults/KernelDifferentialTests.swift feeds
// both the same packets; `fault_ingress` only observes what arrives (the other side's FIN,
// for "ACK of a FIN"). Every decision goes to the `decisions` ring.
//
// GSO: tc egress sees a GSO packet (many segments) before the device cuts it. The egress
// program decides on its segments one by one, as they will be on the wire (tcp_gso_segment:
// seq + i·gso_size, FIN and PSH on the last), and lets the packet through whole unless one
// of them must be dropped, duplicated or corrupted: that segment's action goes to the
// `pending` map, and `fault_peer`, at the ingress of the link's other end, where netfault's
// links (segmentation offloads off) deliver segments one by one, carries it out (a tcx link
// where the kernel has tcx, 6.6 on; a clsact filter at pref 128 before). Where only the last
// segment can be acted on (below), `fault_peer` is not attached: the rare packet whose last
// segment has an action takes a detour through a veth pair of the host's own, which cuts it
// into segments for `fault_detour`, and every other packet goes straight out. A delay
// holds the whole packet (the policy in FaultPlan gives per-segment timing faults on bulk
// segments one-segment packets instead). So a bulk transfer keeps TCP's 64 KB packets.
// When no rule can match a segment before the last and no impairment draws for each
// (NF_CONFIG_EVERY_SEGMENT unset), only the last segment, which may carry the FIN, is decided.
//
// Built by Plugins/BPFObjectPlugin (clang -target bpf -mcpu=v2, so that 5.10 verifies it).
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include "fault_engine.h"
#include "tc_context.h"

char LICENSE[] SEC("license") = "GPL";

// A drop returns TC_ACT_STOLEN, not TC_ACT_SHOT: SHOT makes the send fail (NET_XMIT_DROP), and
// TCP takes a failed send for local congestion: it retries every 500 ms without backoff
// (tcp_retransmit_timer's TCP_RESOURCE_PROBE_INTERVAL), which no loss on a wire causes.
// STOLEN consumes the packet and reports success, as a wire that lost it would.
// A packet let through returns TC_ACT_UNSPEC, so that the filters behind the engine's
// (the capture, at a higher pref) still see it; tc then lets it go as TC_ACT_OK would.
#define BPF_F_PSEUDO_HDR (1ULL << 4)
#define BPF_CSUM_LEVEL_RESET 3
#define BPF_F_INGRESS 1

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct nf_engine_config);
} config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, NF_MAX_RULES);
    __type(key, __u32);
    __type(value, struct nf_fault_rule);
} rules SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, NF_MAX_IMPAIRMENTS);
    __type(key, __u32);
    __type(value, struct nf_impairment);
} impairments SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, struct nf_destination_key);
    __type(value, __u8);
} destinations SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct nf_occurrence_key);
    __type(value, __u32);
} occurrences SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct nf_flow);
    __type(value, struct nf_class_state);
} classes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct nf_flow);
    __type(value, struct nf_identity_state);
} identities SEC(".maps");

// Only retransmissions fill it; LRU: a flow's old sequence numbers are forgotten first.
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, struct nf_retransmission_key);
    __type(value, __u32);
} retransmissions SEC(".maps");

// Written by fault_egress for segments inside GSO packets, consumed by fault_peer as they
// arrive, microseconds later (LRU: an entry whose segment never arrives goes first; it
// leaves `pending_count` high, which only costs fault_peer its early return).
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, struct nf_retransmission_key);
    __type(value, struct nf_pending_action);
} pending SEC(".maps");

// How many entries `pending` holds (one slot): fault_peer runs on every segment the link
// carries and, while it is 0, returns before reading the packet.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} pending_count SEC(".maps");

// An interface's detour: for each interface of the host, the veth its GSO packets with a
// segment to act on are redirected to; for that veth's other end, the interface to send the
// segments out of.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u32);
} detours SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 21);  // 2 MiB: ~9 700 decisions between two polls
} decisions SEC(".maps");

// Decisions lost because the ring was full (one slot).
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} lost SEC(".maps");

struct packet {
    struct nf_flow flow;
    __u32 seq, ack;
    __u32 payload;          // payloadLength
    __u32 ip_length;        // skb->len less the Ethernet header
    __u32 transport_offset; // from the IP header
    __u32 tcp_header;       // TCP header bytes, options included
    __u8 flags;             // TCP flags & 0x3f
    __u8 is_tcp;
};

struct class_view {
    struct nf_class_state own;
    __u8 exists;
    __u8 dirty;
};

// The egress program's working memory. In a map rather than on the stack so that the
// verifier does not follow each value through the rule loop's paths (on the stack, the
// loop's states never merge and 16 rules exceed its million-instruction budget), and so
// that `decide`, verified once on its own, shares it with the program.
struct scratch {
    struct packet p;               // the segment being decided
    struct class_view view;        // the flow's classification, written back once per packet
    struct nf_identity_state id;   // the flow's identity state, likewise
    __u64 now;                     // the hook's instant
    __u64 since;                   // since t0
    __u64 identity;                // decide(): the segment's identity
    __u64 delay;                   // decide(): how long to hold it (0: not)
    __u32 transmission;            // decide(): which transmission it is
    __u32 segment;                 // its index in a GSO packet (0 for a packet of one)
    __u32 gso_size;                // a GSO packet's: segment payload size,
    __u32 gso_total;               //   whole payload,
    __u32 gso_base;                //   first sequence number,
    __u32 gso_header;              //   IP and TCP header bytes,
    __u64 gso_delay;               //   longest delay of its segments,
    __u8 gso_flags;                //   flags
    __s32 acted;
    __u8 id_state;                 // 0: not read yet, 1: read, 2: changed
    __u8 gso;                      // 1: a segment of a GSO packet
    __u8 actions;                  // decide(): NF_PENDING_* bits
    __u8 detour;                   // 1: a GSO packet whose actions the host's detour carries out
    __u8 kept[2 * NF_KEPT_BYTES];  // a GSO segment's copy being put together
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} scratch SEC(".maps");
static __always_inline __u64 be64(const __u8 *b) {
    return ((__u64)b[0] << 56) | ((__u64)b[1] << 48) | ((__u64)b[2] << 40) | ((__u64)b[3] << 32) |
           ((__u64)b[4] << 24) | ((__u64)b[5] << 16) | ((__u64)b[6] << 8) | (__u64)b[7];
}
static __always_inline __u32 be32(const __u8 *b) {
    return ((__u32)b[0] << 24) | ((__u32)b[1] << 16) | ((__u32)b[2] << 8) | (__u32)b[3];
}
static __always_inline __u16 be16(const __u8 *b) { return (__u16)(((__u16)b[0] << 8) | b[1]); }

// `PacketHeader.parse`, from the IP header at ETH_HLEN: 0 when it is not a whole IPv4/IPv6 header.
static __always_inline int parse(struct __sk_buff *skb, struct packet *p) {
    __u8 ip[40];
    __u32 length = skb->len;
    if (length <= ETH_HLEN) return 0;
    if (skb->protocol != ETH_P_IP_BE && skb->protocol != ETH_P_IPV6_BE) return 0;
    p->ip_length = length - ETH_HLEN;
    __u32 total, offset;
    if (bpf_skb_load_bytes(skb, ETH_HLEN, ip, 1)) return 0;
    __u8 version = ip[0] >> 4;
    if (version == 4) {
        __u32 header_length = (__u32)(ip[0] & 0x0F) * 4;
        if (header_length < 20 || p->ip_length < header_length) return 0;
        if (bpf_skb_load_bytes(skb, ETH_HLEN, ip, 20)) return 0;
        total = be16(ip + 2);
        p->flow.transport = ip[9];
        p->flow.src_high = 0;
        p->flow.src_low = be32(ip + 12);
        p->flow.dst_high = 0;
        p->flow.dst_low = be32(ip + 16);
        p->flow.family = 4;
        offset = header_length;
    } else if (version == 6) {
        if (p->ip_length < 40) return 0;
        if (bpf_skb_load_bytes(skb, ETH_HLEN, ip, 40)) return 0;
        total = 40 + (__u32)be16(ip + 4);
        p->flow.transport = ip[6];
        p->flow.src_high = be64(ip + 8);
        p->flow.src_low = be64(ip + 16);
        p->flow.dst_high = be64(ip + 24);
        p->flow.dst_low = be64(ip + 32);
        p->flow.family = 6;
        offset = 40;
    } else {
        return 0;
    }
    if (total < offset) return 0;
    p->transport_offset = offset;
    p->is_tcp = p->flow.transport == 6;
    if (p->is_tcp) {
        __u8 tcp[20];
        if (p->ip_length < offset + 20) return 0;
        if (bpf_skb_load_bytes(skb, ETH_HLEN + (offset & 0x3F), tcp, 20)) return 0;
        __u32 data_offset = (__u32)(tcp[12] >> 4) * 4;
        if (data_offset < 20 || total < offset + data_offset) return 0;
        p->flow.sport = be16(tcp);
        p->flow.dport = be16(tcp + 2);
        p->seq = be32(tcp + 4);
        p->ack = be32(tcp + 8);
        p->flags = tcp[13] & 0x3F;
        p->tcp_header = data_offset;
        p->payload = total - offset - data_offset;
    } else if (p->flow.transport == 17 && p->ip_length >= offset + 4) {
        __u8 udp[4];
        if (bpf_skb_load_bytes(skb, ETH_HLEN + (offset & 0x3F), udp, 4)) return 0;
        p->flow.sport = be16(udp);
        p->flow.dport = be16(udp + 2);
        p->payload = total >= offset + 8 ? total - offset - 8 : 0;
    } else {
        p->payload = total - offset;
    }
    return 1;
}

// ---- SegmentClassifier ----

static __always_inline void reverse(const struct nf_flow *flow, struct nf_flow *out) {
    out->src_high = flow->dst_high;
    out->src_low = flow->dst_low;
    out->dst_high = flow->src_high;
    out->dst_low = flow->src_low;
    out->sport = flow->dport;
    out->dport = flow->sport;
    out->transport = flow->transport;
    out->family = flow->family;
    out->pad[0] = out->pad[1] = 0;
}

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };


// `SegmentClassifier.matches`; may remember a handshake ACK's acknowledgment in `view`.
static __always_inline int matches(const struct packet *p, __u8 kind, struct class_view *view) {
    __u8 f = p->flags;
    int pure_ack = (f & ~F_PSH & 0x3F) == F_ACK && p->payload == 0;
    switch (kind) {
    case NF_KIND_ANY: return 1;
    case NF_KIND_SYN: return (f & F_SYN) && !(f & F_ACK);
    case NF_KIND_SYN_ACK: return (f & (F_SYN | F_ACK)) == (F_SYN | F_ACK);
    case NF_KIND_RST: return (f & F_RST) != 0;
    case NF_KIND_FIN: return (f & F_FIN) != 0;
    case NF_KIND_DATA: return p->payload > 0 && !(f & F_SYN) && !(f & F_RST);
    case NF_KIND_PURE_ACK: return pure_ack;
    case NF_KIND_FIN_ACK: {
        if (!pure_ack) return 0;
        struct nf_flow back;
        reverse(&p->flow, &back);
        struct nf_class_state *other = bpf_map_lookup_elem(&classes, &back);
        return other && other->has_fin && p->ack == other->fin_end;
    }
    case NF_KIND_HANDSHAKE_ACK:
        if (!pure_ack || !view->exists || !view->own.has_syn || view->own.sent_data ||
            p->seq != view->own.syn_seq + 1)
            return 0;
        if (view->own.has_handshake_ack) return p->ack == view->own.handshake_ack;
        view->own.has_handshake_ack = 1;
        view->own.handshake_ack = p->ack;
        view->dirty = 1;
        return 1;
    }
    return 0;
}

// `SegmentClassifier.observe`; the caller writes the flow's state back if it changed.
static __always_inline void observe(const struct packet *p, struct class_view *view) {
    if (!p->is_tcp) return;
    __u8 f = p->flags;
    if ((f & F_SYN) && !(f & F_ACK)) {
        __builtin_memset(&view->own, 0, sizeof(view->own));
        view->own.syn_seq = p->seq;
        view->own.has_syn = 1;
        view->exists = view->dirty = 1;
    } else {
        if (f & F_FIN) {
            if (!view->exists) __builtin_memset(&view->own, 0, sizeof(view->own));
            view->own.fin_end = p->seq + p->payload + 1;
            view->own.has_fin = 1;
            view->exists = view->dirty = 1;
        }
        if (p->payload > 0 && !(view->exists && view->own.sent_data)) {
            if (!view->exists) __builtin_memset(&view->own, 0, sizeof(view->own));
            view->own.sent_data = 1;
            view->exists = view->dirty = 1;
        }
    }
}

static __always_inline void load_view(const struct packet *p, struct class_view *view) {
    struct nf_class_state *state = bpf_map_lookup_elem(&classes, &p->flow);
    view->dirty = 0;
    view->exists = state != 0;
    if (state) view->own = *state;
    else __builtin_memset(&view->own, 0, sizeof(view->own));
}

// ---- SegmentIdentity ----

static __always_inline __u64 mix64(__u64 z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

#define SALT_LOSS 0x6E66000000000001ULL
#define SALT_DUPLICATE 0x6E66000000000002ULL
#define SALT_CORRUPT 0x6E66000000000003ULL
#define SALT_CORRUPT_BIT 0x6E66000000000004ULL
#define SALT_JITTER 0x6E66000000000005ULL
#define SALT_REORDER 0x6E66000000000006ULL

// The segment's identity hash (before salting) and which transmission it is; updates the
// flow's identity state in `s` (read from the map once per packet, written back by
// `flush`). See `SegmentIdentity` (Sources/Netfault/Faults/SegmentIdentity.swift).
static __always_inline __u64 identify(struct scratch *s, __u64 seed) {
    const struct packet *p = &s->p;
    if (!s->id_state) {
        struct nf_identity_state *stored = bpf_map_lookup_elem(&identities, &p->flow);
        if (stored) s->id = *stored;
        else __builtin_memset(&s->id, 0, sizeof(s->id));
    }
    s->id_state = 2;
    struct nf_identity_state *state = &s->id;
    __u64 word, extra = 0;
    int has_extra = 0;
    if (!p->is_tcp) {
        state->packets += 1;
        s->transmission = state->packets;
        word = state->packets;
    } else {
        __u8 f = p->flags;
        if ((f & F_SYN) && (!state->has_isn || state->isn != p->seq)) {
            __builtin_memset(state, 0, sizeof(*state));
            state->isn = p->seq;
            state->has_isn = 1;
        }
        if (!state->has_isn) {
            state->isn = p->seq;
            state->has_isn = 1;
        }
        if ((f & F_ACK) && !state->has_ack_base) {
            state->ack_base = p->ack;
            state->has_ack_base = 1;
        }
        __u32 relative = p->seq - state->isn;
        __u32 occupied = p->payload + ((f & F_SYN) ? 1 : 0) + ((f & F_FIN) ? 1 : 0);
        __u32 n;
        if (occupied > 0) {
            __u32 end = p->seq + occupied;
            if (!state->has_end || (__s32)(end - state->highest_end) > 0) {
                n = 1;
                state->highest_end = end;
                state->has_end = 1;
            } else {
                struct nf_retransmission_key key = {};
                key.flow = p->flow;
                key.seq = p->seq;
                __u32 *before = bpf_map_lookup_elem(&retransmissions, &key);
                __u32 count = before ? *before : 0;
                n = count + 2;
                count += 1;
                bpf_map_update_elem(&retransmissions, &key, &count, BPF_ANY);
            }
        } else {
            if (state->has_ack && state->last_ack == p->ack) {
                state->ack_repeats += 1;
            } else {
                state->last_ack = p->ack;
                state->ack_repeats = 1;
                state->has_ack = 1;
            }
            n = state->ack_repeats;
            extra = state->has_ack_base ? (__u64)(__u32)(p->ack - state->ack_base) : 0;
            has_extra = 1;
        }
        s->transmission = n;
        word = ((__u64)relative << 32) | n;
    }
    __u64 h = mix64(seed);
    h = mix64(h ^ p->flow.src_high);
    h = mix64(h ^ p->flow.src_low);
    h = mix64(h ^ p->flow.dst_high);
    h = mix64(h ^ p->flow.dst_low);
    h = mix64(h ^ (((__u64)p->flow.family << 40) | ((__u64)p->flow.sport << 24) | ((__u64)p->flow.dport << 8) |
                   p->flow.transport));
    h = mix64(h ^ word);
    if (has_extra) h = mix64(h ^ extra);
    return h;
}

static __always_inline int hits(__u64 identity, __u64 salt, __u64 threshold) {
    if (threshold == 0) return 0;
    if (threshold == ~0ULL) return 1;
    return mix64(identity ^ salt) < threshold;
}

// ---- Decisions ----

static __always_inline void count_lost(void) {
    __u32 zero = 0;
    __u64 *count = bpf_map_lookup_elem(&lost, &zero);
    if (count) __sync_fetch_and_add(count, 1);
}

static __always_inline void put16(__u8 *b, __u16 v) {
    b[0] = (__u8)(v >> 8);
    b[1] = (__u8)v;
}

// RFC 1624's incremental update of a ones'-complement sum when one 16-bit word changes.
static __always_inline __u16 checksum_moved(__u16 check, __u16 from, __u16 to) {
    __u32 sum = (__u32)(__u16)~check + (__u16)~from + to;
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    return (__u16)~sum;
}

// A dropped packet's first bytes from the IP header on.
static __always_inline void keep_packet(struct __sk_buff *skb, const struct packet *p, struct nf_fault_decision *d) {
    __u32 n = p->ip_length;
    if (n > NF_KEPT_BYTES) n = NF_KEPT_BYTES;
    // 1…128 by arithmetic the verifier follows: 5.10's loses `n >= 1` from a comparison
    // (clang folds both tests into one) and refuses a size that may be 0.
    __u32 size = ((n - 1) & (NF_KEPT_BYTES - 1)) + 1;
    if (n >= 1 && bpf_skb_load_bytes(skb, ETH_HLEN, d->packet, size) == 0) d->packet_length = (__u8)size;
}

// A dropped segment of a GSO packet as the device would have cut it: the packet's headers
// with this segment's lengths, IPv4 id (+ its index), sequence number and flags, then its
// own first payload bytes. The TCP checksum stays the packet's (CHECKSUM_PARTIAL: unsummed).
static __always_inline void keep_segment(struct __sk_buff *skb, struct scratch *s, struct nf_fault_decision *d) {
    const struct packet *p = &s->p;
    __u32 header = p->transport_offset + p->tcp_header;
    if (header < 40 || header > 120 || p->payload == 0) return;
    __u32 header_size = ((header - 1) & 0x7F) + 1;
    if (bpf_skb_load_bytes(skb, ETH_HLEN, s->kept, header_size)) return;
    __u32 take = p->payload < NF_KEPT_BYTES ? p->payload : NF_KEPT_BYTES;
    __u32 take_size = ((take - 1) & (NF_KEPT_BYTES - 1)) + 1;
    if (bpf_skb_load_bytes(skb, ETH_HLEN + header_size + s->segment * s->gso_size, s->kept + header_size, take_size)) return;
    __u8 *b = s->kept;
    __u32 tcp = p->transport_offset & 0x3F;
    if (p->flow.family == 4) {
        __u16 old_length = be16(b + 2), new_length = (__u16)(header + p->payload);
        __u16 old_id = be16(b + 4), new_id = (__u16)(old_id + s->segment);
        __u16 check = checksum_moved(be16(b + 10), old_length, new_length);
        put16(b + 2, new_length);
        put16(b + 4, new_id);
        put16(b + 10, checksum_moved(check, old_id, new_id));
    } else {
        put16(b + 4, (__u16)(header - 40 + p->payload));
    }
    b[tcp + 4] = (__u8)(p->seq >> 24);
    b[tcp + 5] = (__u8)(p->seq >> 16);
    b[tcp + 6] = (__u8)(p->seq >> 8);
    b[tcp + 7] = (__u8)p->seq;
    // CWR only on the first segment, as tcp_gso_segment leaves it.
    b[tcp + 13] = (b[tcp + 13] & (s->segment ? 0x40 : 0xC0)) | p->flags;
    __builtin_memcpy(d->packet, b, NF_KEPT_BYTES);
    __u32 kept = header + p->payload;
    d->packet_length = kept > NF_KEPT_BYTES ? NF_KEPT_BYTES : (__u8)kept;
}

static __always_inline void report(struct __sk_buff *skb, struct scratch *s, __u8 source, __u16 index, __u8 action,
                                   __u64 delay) {
    const struct packet *p = &s->p;
    struct nf_fault_decision *d = bpf_ringbuf_reserve(&decisions, sizeof(*d), 0);
    if (!d) {
        count_lost();
        return;
    }
    d->time_ns = s->now;
    d->delay_ns = delay;
    d->src_high = p->flow.src_high;
    d->src_low = p->flow.src_low;
    d->dst_high = p->flow.dst_high;
    d->dst_low = p->flow.dst_low;
    d->seq = p->seq;
    d->ack = p->ack;
    d->length = p->payload;
    d->ifindex = skb->ifindex;
    d->transmission = s->transmission;
    d->sport = p->flow.sport;
    d->dport = p->flow.dport;
    d->index = index;
    d->source = source;
    d->action = action;
    d->flags = p->flags;
    d->transport = p->flow.transport;
    d->family = p->flow.family;
    d->gso_segs = s->gso ? 1 : (__u16)skb->gso_segs;
    // What a GSO packet's segment gets, other than a delay, fault_peer does after the wire, or the host's detour before it.
    d->at_peer = s->gso && !s->detour && action != NF_ACT_DELAY && action != NF_ACT_REORDER;
    d->pad = 0;
    d->pad2 = 0;
    d->packet_length = 0;
    if (action == NF_ACT_DROP) {
        if (s->gso) keep_segment(skb, s, d);
        else keep_packet(skb, p, d);
    }
    bpf_ringbuf_submit(d, 0);
}

// Earliest departure: an fq root qdisc holds the packet until skb->tstamp.
static __always_inline void delay_by(struct __sk_buff *skb, __u64 now, __u64 delay) {
    __u64 from = skb->tstamp > now ? skb->tstamp : now;
    skb->tstamp = from + delay;
}

// A copy right now, through this device's egress (or, `direction` BPF_F_INGRESS, its
// ingress) again: the skip mark keeps the engine's programs from deciding on it; at egress
// it stays on the copy until the peer namespace scrubs it.
static __always_inline void duplicate(struct __sk_buff *skb, const struct nf_engine_config *cfg, __u32 ifindex,
                                      __u64 direction) {
    if (cfg->clock_override_ns) return;
    __u32 mark = skb->mark;
    skb->mark = cfg->skip_mark;
    bpf_clone_redirect(skb, ifindex, direction);
    skb->mark = mark;
}

// Flips one bit after the IP header, chosen by the hash, so that the receiver's checksum
// fails: a complete checksum fails by itself; for CHECKSUM_PARTIAL (TCP and UDP sent by
// a local socket: the field holds the pseudo-header sum and the device or
// skb_checksum_help sums the data later) the field is moved back by the same change,
// which the pseudo-header flag of bpf_l4_csum_replace does only for CHECKSUM_PARTIAL
// (a complete checksum is moved the same way, and then fails by twice the change).
// The receiver must verify: the link needs tx checksum offload off (so the sum is
// computed in software, before the wire) and rx checksum offload off on the peer (veth
// otherwise marks a CHECKSUM_NONE packet CHECKSUM_UNNECESSARY).
static __always_inline void corrupt(struct __sk_buff *skb, const struct packet *p, __u64 identity) {
    if (p->ip_length <= p->transport_offset) return;
    __u64 bits = (__u64)(p->ip_length - p->transport_offset) * 8;
    __u64 bit = mix64(identity ^ SALT_CORRUPT_BIT) % bits;
    __u32 byte = (__u32)(bit / 8);
    __u32 word_start = byte & ~1u;
    __u32 base = ETH_HLEN + p->transport_offset;
    __u8 old[2] = {0, 0}, new[2];
    __u32 in_packet = p->ip_length - p->transport_offset;
    if (word_start + 2 <= in_packet) {
        if (bpf_skb_load_bytes(skb, base + word_start, old, 2)) return;
    } else {
        if (bpf_skb_load_bytes(skb, base + word_start, old, 1)) return;
    }
    new[0] = old[0];
    new[1] = old[1];
    new[byte & 1] ^= (__u8)(1 << (bit % 8));
    if (bpf_skb_store_bytes(skb, base + byte, &new[byte & 1], 1, 0)) return;
    bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
    __u32 check = p->flow.transport == 6 ? 16 : p->flow.transport == 17 ? 6 : 0;
    if (!check || word_start == check) return;
    __u16 from = (__u16)new[0] | ((__u16)new[1] << 8), to = (__u16)old[0] | ((__u16)old[1] << 8);
    bpf_l4_csum_replace(skb, base + check, from, to, BPF_F_PSEUDO_HDR | 2);
}

static __always_inline int occurrence_selects(__u8 occurrence, __u32 n, __u32 count) {
    switch (occurrence) {
    case NF_OCC_ALL: return 1;
    case NF_OCC_NTH: return count == n;
    case NF_OCC_FIRST: return count <= n;
    case NF_OCC_EVERY_NTH: return n != 0 && count % n == 0;
    case NF_OCC_AFTER_NTH: return count > n;
    }
    return 0;
}

// One segment (s->p) through the rules, then the impairments: what `VerdictEngine.handle`
// decides for it, reported to the ring, left in s->actions and s->delay for the caller.
// Global (not inlined), so that the verifier checks it once, not once per segment of the
// GSO loop that calls it.
__attribute__((noinline)) int decide(struct __sk_buff *skb) {
    __u32 zero = 0;
    struct nf_engine_config *cfg = bpf_map_lookup_elem(&config, &zero);
    struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
    if (!cfg || !s) return 0;
    s->actions = 0;
    s->delay = 0;
    s->transmission = 0;
    s->identity = 0;
    if (cfg->impairment_count) s->identity = identify(s, cfg->seed);
    __u32 ifindex = skb->ifindex;
    __u64 since = s->since;

    s->acted = -1;
    __u32 rule_count = cfg->rule_count;
    for (__u32 i = 0; i < NF_MAX_RULES; i++) {
        if (i >= rule_count) break;
        __u32 key = i;
        struct nf_fault_rule *rule = bpf_map_lookup_elem(&rules, &key);
        if (!rule) break;
        if (rule->ifindex && rule->ifindex != ifindex) continue;
        if (since < rule->window_start_ns || since >= rule->window_end_ns) continue;
        if (rule->port && s->p.flow.sport != rule->port && s->p.flow.dport != rule->port) continue;
        if (rule->has_destinations) {
            struct nf_destination_key destination = {.rule = i, .family = s->p.flow.family,
                                                      .high = s->p.flow.dst_high, .low = s->p.flow.dst_low};
            if (!bpf_map_lookup_elem(&destinations, &destination)) continue;
        }
        if (rule->kind != NF_KIND_EVERY_PACKET) {
            if (!s->p.is_tcp) continue;
            if (!matches(&s->p, rule->kind, &s->view)) continue;
        }
        struct nf_occurrence_key counted = {};
        counted.flow = s->p.flow;
        counted.rule = i;
        __u32 one = 1;
        __u32 *stored = bpf_map_lookup_elem(&occurrences, &counted);
        if (stored) {
            *stored += 1;
        } else {
            bpf_map_update_elem(&occurrences, &counted, &one, BPF_ANY);
            stored = bpf_map_lookup_elem(&occurrences, &counted);
            if (!stored) continue;
        }
        if (s->acted < 0 && occurrence_selects(rule->occurrence, rule->operand, *stored)) s->acted = (__s32)i;
    }
    observe(&s->p, &s->view);

    if (s->acted >= 0) {
        __u32 key = (__u32)s->acted & (NF_MAX_RULES - 1);
        struct nf_fault_rule *rule = bpf_map_lookup_elem(&rules, &key);
        if (!rule) return 0;
        __u8 action = rule->action;
        if (action == NF_ACT_DROP) {
            report(skb, s, 1, (__u16)key, NF_ACT_DROP, 0);
            s->actions = NF_PENDING_DROP;
        } else if (action == NF_ACT_DELAY) {
            report(skb, s, 1, (__u16)key, NF_ACT_DELAY, rule->delay_ns);
            s->delay = rule->delay_ns;
        } else if (action == NF_ACT_DUPLICATE) {
            report(skb, s, 1, (__u16)key, NF_ACT_DUPLICATE, 0);
            s->actions = NF_PENDING_DUPLICATE;
        }
        return 0;
    }

    // Link-wide impairments: the first on this interface.
    __u64 identity = s->identity;
    __u32 impairment_count = cfg->impairment_count;
    for (__u32 i = 0; i < NF_MAX_IMPAIRMENTS; i++) {
        if (i >= impairment_count) break;
        __u32 key = i;
        struct nf_impairment *im = bpf_map_lookup_elem(&impairments, &key);
        if (!im) break;
        if (im->ifindex != ifindex) continue;
        if (hits(identity, SALT_LOSS, im->loss_threshold)) {
            report(skb, s, 2, (__u16)i, NF_ACT_DROP, 0);
            s->actions = NF_PENDING_DROP;
            return 0;
        }
        if (hits(identity, SALT_CORRUPT, im->corrupt_threshold)) {
            report(skb, s, 2, (__u16)i, NF_ACT_CORRUPT, 0);
            s->actions |= NF_PENDING_CORRUPT;
        }
        if (hits(identity, SALT_DUPLICATE, im->duplicate_threshold)) {
            report(skb, s, 2, (__u16)i, NF_ACT_DUPLICATE, 0);
            s->actions |= NF_PENDING_DUPLICATE;
        }
        __u64 delay = im->delay_ns;
        if (im->jitter_ns) {
            __u64 spread = mix64(identity ^ SALT_JITTER) % (2 * im->jitter_ns + 1);
            delay = delay + spread >= im->jitter_ns ? delay + spread - im->jitter_ns : 0;
        }
        if (delay > 0 && hits(identity, SALT_REORDER, im->reorder_threshold)) {
            delay = 0;
            report(skb, s, 2, (__u16)i, NF_ACT_REORDER, 0);
        }
        if (delay > 0) report(skb, s, 2, (__u16)i, NF_ACT_DELAY, delay);
        s->delay = delay;
        return 0;
    }
    return 0;
}

// The flow's classification and identity state, back to their maps once per packet.
static __always_inline void flush(struct scratch *s) {
    if (s->view.dirty) bpf_map_update_elem(&classes, &s->p.flow, &s->view.own, BPF_ANY);
    if (s->id_state == 2) bpf_map_update_elem(&identities, &s->p.flow, &s->id, BPF_ANY);
}

// A packet of one segment: its actions, here.
static __always_inline int act(struct __sk_buff *skb, const struct nf_engine_config *cfg, struct scratch *s) {
    __u8 actions = s->actions;
    if (actions & NF_PENDING_DROP) return TC_ACT_STOLEN;
    if (s->delay) delay_by(skb, s->now, s->delay);
    // The copy leaves first, as it is (delayed as much, not corrupted, as the Swift engine's).
    if (actions & NF_PENDING_DUPLICATE) duplicate(skb, cfg, skb->ifindex, 0);
    if (actions & NF_PENDING_CORRUPT) corrupt(skb, &s->p, s->identity);
    return TC_ACT_UNSPEC;
}

// A segment of a GSO packet: its actions, for fault_peer at the link's other end.
static __always_inline void hand_over(struct scratch *s) {
    struct nf_retransmission_key key = {};
    key.flow = s->p.flow;
    key.seq = s->p.seq;
    struct nf_pending_action action = {.identity = s->identity, .actions = s->actions};
    if (bpf_map_update_elem(&pending, &key, &action, BPF_NOEXIST) == 0) {
        __u32 zero = 0;
        __u64 *count = bpf_map_lookup_elem(&pending_count, &zero);
        if (count) __sync_fetch_and_add(count, 1);
    } else {
        bpf_map_update_elem(&pending, &key, &action, BPF_ANY);
    }
}

// Segment `i` of the GSO packet in s->gso_*, into s->p; 0 past its end. The last (or the
// NF_MAX_GSO_SEGMENTS-th, which takes the rest) keeps FIN and PSH.
static __always_inline int next_segment(struct scratch *s, __u32 i) {
    __u32 offset = i * s->gso_size;
    if (offset >= s->gso_total) return 0;
    int last = s->gso_total - offset <= s->gso_size || i == NF_MAX_GSO_SEGMENTS - 1;
    s->segment = i;
    s->p.seq = s->gso_base + offset;
    s->p.payload = last ? s->gso_total - offset : s->gso_size;
    s->p.ip_length = s->gso_header + s->p.payload;
    s->p.flags = last ? s->gso_flags : s->gso_flags & ~(F_FIN | F_PSH);
    return 1;
}

// Segment `i` of the GSO packet in s->gso_*: decided, its actions handed over, its delay
// kept if the longest; 0 past the packet's end. Global, like `decide`: the verifier checks
// it once, so the loop over 512 segments costs it a few instructions each.
__attribute__((noinline)) int decide_segment(struct __sk_buff *skb, __u32 i) {
    __u32 zero = 0;
    struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
    if (!s || !next_segment(s, i)) return 0;
    decide(skb);
    if (s->actions) hand_over(s);
    // FaultPlan keeps per-segment timing off GSO packets: their segments' delays agree.
    if (s->delay > s->gso_delay) s->gso_delay = s->delay;
    return 1;
}

SEC("tc")
int fault_egress(struct __sk_buff *skb) {
    __u32 zero = 0;
    struct nf_engine_config *cfg = bpf_map_lookup_elem(&config, &zero);
    if (!cfg || skb->mark == cfg->skip_mark) return TC_ACT_UNSPEC;
    struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
    if (!s) return TC_ACT_UNSPEC;
    __builtin_memset(&s->p, 0, sizeof(s->p));
    if (!parse(skb, &s->p)) return TC_ACT_UNSPEC;
    // The differential test's clock: the test run's skb->cb[0..1] (set through its context).
    s->now = cfg->clock_override_ns ? ((__u64)skb->cb[1] << 32 | skb->cb[0]) : bpf_ktime_get_ns();
    s->since = s->now > cfg->t0_ns ? s->now - cfg->t0_ns : 0;
    s->id_state = 0;
    s->detour = 0;
    if (s->p.is_tcp) load_view(&s->p, &s->view);
    else s->view.exists = s->view.dirty = 0;

    __u32 size = skb->gso_size;
    if (!s->p.is_tcp || skb->gso_segs <= 1 || size == 0 || s->p.payload <= size) {
        s->gso = 0;
        s->segment = 0;
        decide(skb);
        flush(s);
        return act(skb, cfg, s);
    }

    // A GSO packet: its segments as the device will cut them (tcp_gso_segment), in order.
    s->gso = 1;
    s->gso_size = size;
    s->gso_total = s->p.payload;
    s->gso_base = s->p.seq;
    s->gso_header = s->p.transport_offset + s->p.tcp_header;
    s->gso_flags = s->p.flags;
    s->gso_delay = 0;
    if (cfg->flags & NF_CONFIG_EVERY_SEGMENT) {
        for (__u32 i = 0; i < NF_MAX_GSO_SEGMENTS; i++) {
            if (!decide_segment(skb, i)) break;
        }
    } else {
        // No rule can match the segments before the last, nor count them: only the last is decided.
        __u32 last = (s->gso_total - 1) / size;
        __u32 from = skb->ifindex;
        __u32 *detour = bpf_map_lookup_elem(&detours, &from);
        s->detour = detour != 0;
        decide_segment(skb, last < NF_MAX_GSO_SEGMENTS ? last : NF_MAX_GSO_SEGMENTS - 1);
        if (detour && s->actions) {
            // Its last segment has an action: the packet goes to the detour, which cuts it, and
            // comes back marked, for the engine here to let through.
            flush(s);
            skb->mark = cfg->skip_mark;
            return bpf_redirect(*detour, 0);
        }
    }
    flush(s);
    if (s->gso_delay) delay_by(skb, s->now, s->gso_delay);
    return TC_ACT_UNSPEC;
}

SEC("tc")
int fault_ingress(struct __sk_buff *skb) {
    __u32 zero = 0;
    struct nf_engine_config *cfg = bpf_map_lookup_elem(&config, &zero);
    if (!cfg || skb->mark == cfg->skip_mark) return TC_ACT_OK;
    struct packet p = {};
    if (!parse(skb, &p) || !p.is_tcp) return TC_ACT_OK;
    struct class_view view;
    load_view(&p, &view);
    observe(&p, &view);
    if (view.dirty) bpf_map_update_elem(&classes, &p.flow, &view.own, BPF_ANY);
    return TC_ACT_OK;
}

// What fault_egress decided for a segment inside a GSO packet, carried out now that it comes
// alone: TC_ACT_SHOT for a drop; a duplicate goes to `ifindex` (`direction`: BPF_F_INGRESS or
// egress) ahead of it; else TC_ACT_UNSPEC.
static __always_inline int carry_out(struct __sk_buff *skb, const struct nf_engine_config *cfg, __u64 *count,
                                     __u32 ifindex, __u64 direction) {
    struct packet p = {};
    if (!parse(skb, &p) || !p.is_tcp) return TC_ACT_UNSPEC;
    struct nf_retransmission_key key = {};
    key.flow = p.flow;
    key.seq = p.seq;
    struct nf_pending_action *waiting = bpf_map_lookup_elem(&pending, &key);
    if (!waiting) return TC_ACT_UNSPEC;
    __u8 actions = waiting->actions;
    __u64 identity = waiting->identity;
    if (bpf_map_delete_elem(&pending, &key) == 0) __sync_fetch_and_add(count, -1);
    if (actions & NF_PENDING_DROP) return TC_ACT_SHOT;
    if (actions & NF_PENDING_DUPLICATE) duplicate(skb, cfg, ifindex, direction);
    if (actions & NF_PENDING_CORRUPT) corrupt(skb, &p, identity);
    return TC_ACT_UNSPEC;
}

// At the ingress of the other end of a faulted host's link (ahead of that host's own
// engine), where rules may act on any segment of a GSO packet: carries out what fault_egress
// decided for a segment inside one, now that it arrives alone. A drop is TC_ACT_SHOT (after
// the wire, nothing to tell the sender); everything else goes on (TC_ACT_UNSPEC: the filters
// behind run).
SEC("tc")
int fault_peer(struct __sk_buff *skb) {
    __u32 zero = 0;
    struct nf_engine_config *cfg = bpf_map_lookup_elem(&config, &zero);
    __u64 *count = bpf_map_lookup_elem(&pending_count, &zero);
    if (!cfg || !count || !*count || skb->mark == cfg->skip_mark) return TC_ACT_UNSPEC;
    return carry_out(skb, cfg, count, skb->ifindex, BPF_F_INGRESS);
}

// At the ingress of the other end of an interface's detour (a veth pair in the host, its
// segmentation offloads off): the segments of a GSO packet fault_egress sent there, one by
// one. Carries out what it decided for them and sends each on out of the interface, still
// marked, so that the engine there lets it pass. What the veth sends by itself (IPv6's
// neighbour discovery) is unmarked and goes no further.
SEC("tc")
int fault_detour(struct __sk_buff *skb) {
    __u32 zero = 0, from = skb->ifindex;
    struct nf_engine_config *cfg = bpf_map_lookup_elem(&config, &zero);
    __u64 *count = bpf_map_lookup_elem(&pending_count, &zero);
    __u32 *out = bpf_map_lookup_elem(&detours, &from);
    if (!cfg || !count || !out || skb->mark != cfg->skip_mark) return TC_ACT_SHOT;
    __u32 target = *out;
    if (carry_out(skb, cfg, count, target, 0) == TC_ACT_SHOT) return TC_ACT_SHOT;
    return bpf_redirect(target, 0);
}
