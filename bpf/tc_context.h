// What tc (clsact) programs share: their context's uapi layout, their return codes and the
// packet constants they test. Included by bpf/fault_engine.bpf.c and bpf/capture.bpf.c, and
// by bpf/departures.bpf.c for the constants.
#ifndef NETFAULT_TC_CONTEXT_H
#define NETFAULT_TC_CONTEXT_H

// The uapi context of tc programs (include/uapi/linux/bpf.h), up to the last field read.
// Accessed by offset (the verifier rewrites it), so the layout must be the uapi's.
struct __sk_buff {
    __u32 len, pkt_type, mark, queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto, priority;
    __u32 ingress_ifindex, ifindex, tc_index, cb[5], hash, tc_classid, data, data_end, napi_id;
    __u32 family, remote_ip4, local_ip4, remote_ip6[4], local_ip6[4], remote_port, local_port;
    __u32 data_meta;
    __u64 flow_keys;
    __u64 tstamp;
    __u32 wire_len;
    __u32 gso_segs;
    __u64 sk;
    __u32 gso_size;
};
_Static_assert(__builtin_offsetof(struct __sk_buff, tstamp) == 152, "__sk_buff.tstamp");
_Static_assert(__builtin_offsetof(struct __sk_buff, gso_segs) == 164, "__sk_buff.gso_segs");
_Static_assert(__builtin_offsetof(struct __sk_buff, gso_size) == 176, "__sk_buff.gso_size");

// TC_ACT_UNSPEC: continue with the next filter, or let the packet go when there is none.
enum { TC_ACT_UNSPEC = -1, TC_ACT_OK = 0, TC_ACT_SHOT = 2, TC_ACT_STOLEN = 4 };
enum { ETH_HLEN = 14 };
#define ETH_P_IP_BE 0x0008
#define ETH_P_IPV6_BE 0xDD86
// IPv4's protocol and IPv6's next header for TCP.
enum { IPPROTO_TCP = 6 };

#endif
