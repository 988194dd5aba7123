// The few kernel types the event programs read, declared by hand. Every struct is
// `preserve_access_index`: clang records each field access as a CO-RE relocation and
// libbpf resolves it against the running kernel's BTF (/sys/kernel/btf/vmlinux) when it
// loads the object, so these declarations carry no offsets of any kernel version. The
// layout here is deliberately flat (the kernel nests some fields in anonymous unions):
// CO-RE matches fields by name, and only the names and types must agree.
#ifndef NETFAULT_KERNEL_TYPES_H
#define NETFAULT_KERNEL_TYPES_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

// UAPI constants (include/uapi/linux/bpf.h): stable across kernels.
enum bpf_map_type { BPF_MAP_TYPE_HASH = 1, BPF_MAP_TYPE_ARRAY = 2, BPF_MAP_TYPE_PERCPU_ARRAY = 6, BPF_MAP_TYPE_LRU_HASH = 9, BPF_MAP_TYPE_RINGBUF = 27 };
enum { BPF_ANY = 0, BPF_NOEXIST = 1 };

struct ns_common { unsigned int inum; } __attribute__((preserve_access_index));
struct net { struct ns_common ns; } __attribute__((preserve_access_index));
typedef struct { struct net *net; } possible_net_t;

struct in6_addr { union { __u8 u6_addr8[16]; } in6_u; } __attribute__((preserve_access_index));

struct sock_common {
    __be32 skc_daddr;
    __be32 skc_rcv_saddr;
    __be16 skc_dport;
    __u16 skc_num;
    unsigned short skc_family;
    volatile unsigned char skc_state;
    possible_net_t skc_net;
    struct in6_addr skc_v6_daddr;
    struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock { struct sock_common __sk_common; } __attribute__((preserve_access_index));

// inet_sport outlives skc_num: closing a socket releases its port (inet_put_port zeroes
// skc_num) before the state change to CLOSE is announced.
struct inet_sock { __be16 inet_sport; } __attribute__((preserve_access_index));

struct request_sock { struct sock_common __req_common; } __attribute__((preserve_access_index));
// The next sequence number a full socket sends new data at.
struct tcp_sock { __u32 snd_nxt; } __attribute__((preserve_access_index));
enum { TCP_NEW_SYN_RECV = 12 };
// snt_synack: the first SYN-ACK's stamp (its skb_mstamp_ns in µs), set once.
struct tcp_request_sock { __u32 snt_isn; __u64 snt_synack; } __attribute__((preserve_access_index));

// A device's root qdisc; `enqueue` is NULL for noqueue (veth's default): __dev_queue_xmit
// then hands the segment straight to the taps and the driver.
struct Qdisc { void *enqueue; } __attribute__((preserve_access_index));
struct net_device { possible_net_t nd_net; struct Qdisc *qdisc; int ifindex; } __attribute__((preserve_access_index));

struct sk_buff {
    struct sk_buff *next;
    struct net_device *dev;
    struct sock *sk;
    char cb[48];
    unsigned char *head;
    // For TCP's queued segments: when TCP last stamped it for transmission (tcp_clock_ns,
    // CLOCK_MONOTONIC), in a union with tstamp.
    __u64 skb_mstamp_ns;
    __u16 transport_header;
    __u16 network_header;
    __u16 mac_header;
    // From the link-layer header on when the device takes it (net_dev_start_xmit).
    unsigned int len;
    __be16 protocol;
} __attribute__((preserve_access_index));

// TCP_SKB_CB(skb): the control block TCP keeps in skb->cb for segments in its queues.
// tcp_flags was a u8 before 6.6 and is a u16 since; the low byte (read here) is the same.
struct tcp_skb_cb {
    __u32 seq;
    __u32 end_seq;
    __u8 tcp_flags;
} __attribute__((preserve_access_index));

// Declared only so bpf_core_type_exists can ask whether the running kernel has them:
// kfree_skb gained its reason argument with enum skb_drop_reason (5.17), tcp_send_reset
// with enum sk_rst_reason (6.10). Reading an argument a kernel lacks fails verification.
enum skb_drop_reason { SKB_DROP_REASON_NOT_SPECIFIED = 2 };
enum sk_rst_reason { SK_RST_REASON_NOT_SPECIFIED = 0 };

#endif
