#ifndef CNETFAULTBPF_H
#define CNETFAULTBPF_H

// libbpf behind opaque pointers, for the kernel event loader (Events/BPFObject.swift).
// Why not import libbpf's headers into Swift: their <linux/bpf.h> and libpcap's
// <pcap/bpf.h> (imported by CNetfault) both define struct bpf_insn, and one Swift module
// cannot see both definitions. Functions return -errno on failure unless said otherwise.
#include <stddef.h>
#include <stdint.h>

struct nf_bpf_object;
struct nf_bpf_ring;

// tc_probe.c: what `netfault doctor` needs.
/// bpf_prog_load of a two-instruction BPF_PROG_TYPE_SCHED_CLS program that passes every
/// packet, named "nf_probe_pass": whether tc BPF programs load here. The fd, or -errno
/// with the verifier's log in `log`.
int nf_bpf_load_pass_classifier(char *log, size_t log_size);

/// bpf_object__open_mem + bpf_object__load: CO-RE relocation against the running kernel's
/// BTF, then the verifier. NULL with *error = -errno and libbpf's log in `log` (the
/// verifier's last lines say why it refused).
struct nf_bpf_object *nf_bpf_object_load(const void *bytes, size_t size, const char *name, int *error,
                                         char *log, size_t log_size);
/// nf_bpf_object_load with the program whose C function is `left_out` not loaded
/// (bpf_program__set_autoload false; NULL: every program): for a program the running
/// kernel refuses (a tracepoint it lacks) while the others are wanted.
struct nf_bpf_object *nf_bpf_object_load_without(const void *bytes, size_t size, const char *name, const char *left_out,
                                                 int *error, char *log, size_t log_size);
/// bpf_program__attach of the program whose C function is `name` (by its section), kept
/// with the object's links (nf_bpf_object_detach_all destroys it). 0, or -errno with
/// libbpf's log in `log` (-ENOENT: no such program).
int nf_bpf_object_attach_program(struct nf_bpf_object *object, const char *name, char *log, size_t log_size);
/// bpf_program__attach for every program, by its section (tp_btf/NAME). How many, or -errno with
/// the failing program's name in `failed` and libbpf's log in `log` (and none left attached).
int nf_bpf_object_attach_all(struct nf_bpf_object *object, char *failed, size_t failed_size, char *log,
                             size_t log_size);
/// How many programs are attached now.
int nf_bpf_object_attached_count(const struct nf_bpf_object *object);
/// bpf_link__destroy for every attached program; the object stays loaded, to attach again.
void nf_bpf_object_detach_all(struct nf_bpf_object *object);
/// Detaches every program and frees the object and its maps.
void nf_bpf_object_close(struct nf_bpf_object *object);
/// bpf(BPF_ENABLE_STATS, BPF_STATS_RUN_TIME): the kernel counts every program's runs and
/// run time while the returned fd is open (without touching the kernel.bpf_stats_enabled
/// sysctl). The fd, or -errno.
int nf_bpf_enable_run_time_stats(void);
/// The `index`-th program's name, runs and run time (bpf_prog_info run_cnt, run_time_ns),
/// or -ENOENT past the last.
int nf_bpf_object_program_stats(struct nf_bpf_object *object, int index, char *name, size_t name_size,
                                uint64_t *runs, uint64_t *nanoseconds);
/// bpf_map__fd(bpf_object__find_map_by_name(...)), or -ENOENT.
int nf_bpf_object_map_fd(struct nf_bpf_object *object, const char *name);

/// bpf_map_update_elem / bpf_map_delete_elem / bpf_map_lookup_elem on 4-byte keys.
int nf_bpf_map_update_u32_u8(int fd, uint32_t key, uint8_t value);
int nf_bpf_map_delete_u32(int fd, uint32_t key);
int nf_bpf_map_lookup_u32_u64(int fd, uint32_t key, uint64_t *value);

/// ring_buffer__new on a BPF_MAP_TYPE_RINGBUF map: `handler` gets each record.
struct nf_bpf_ring *nf_bpf_ring_new(int map_fd, void (*handler)(void *context, const void *data, size_t size),
                                    void *context, int *error);
/// libbpf_num_possible_cpus: how many values a per-CPU map's lookup returns (each rounded
/// up to 8 bytes). Or -errno.
int nf_bpf_possible_cpus(void);
/// ring_buffer__add: another BPF_MAP_TYPE_RINGBUF map read by the same poll and consume,
/// its records to `handler` (at most 3 added). 0 or -errno.
int nf_bpf_ring_add(struct nf_bpf_ring *ring, int map_fd, void (*handler)(void *context, const void *data, size_t size),
                    void *context);
/// ring_buffer__poll: waits up to `timeout_ms`, consumes what is there; records handled, or -errno.
int nf_bpf_ring_poll(struct nf_bpf_ring *ring, int timeout_ms);
/// ring_buffer__consume: handles what is there without waiting, also records submitted
/// without a wake-up (BPF_RB_NO_WAKEUP), which poll does not see. Records handled, or -errno.
int nf_bpf_ring_consume(struct nf_bpf_ring *ring);
void nf_bpf_ring_free(struct nf_bpf_ring *ring);

/// Calls `each` with every member of the running kernel's `enum enum_name` (from
/// /sys/kernel/btf/vmlinux). Members seen, or -errno (-ENOENT: no BTF, or no such enum).
int nf_btf_enum_members(const char *enum_name, void (*each)(void *context, int64_t value, const char *name),
                        void *context);

// ---- The tc fault engine (Faults/TCFaultEngine.swift) ----

/// bpf_program__fd of the program named `name` (its C function name), or -ENOENT.
int nf_bpf_object_program_fd(struct nf_bpf_object *object, const char *name);

/// bpf_map_update_elem / bpf_map_lookup_elem / bpf_map_delete_elem with keys and values as
/// byte buffers of the map's sizes. 0 or -errno.
int nf_bpf_map_update(int fd, const void *key, const void *value, uint64_t flags);
int nf_bpf_map_lookup(int fd, const void *key, void *value);
int nf_bpf_map_delete(int fd, const void *key);
/// Deletes every entry of a hash map (keys of `key_size` bytes, at most 64): how many, or -errno.
/// Equivalent to `bpftool map delete` of each key `bpftool map dump` lists.
int nf_bpf_map_clear(int fd, uint32_t key_size);

/// On a thread that enters the network namespace `netns_fd` and exits after:
/// bpf_tc_hook_create (clsact on `ifindex`; *created = 1 when it was not there) and
/// bpf_tc_attach of `egress_fd` at egress and `ingress_fd` at ingress (direct action; a
/// negative fd: none there), at `priorities` (in: 0 lets the kernel pick one ahead of the
/// filters there; out: what they got), their handles returned for the detach. Equivalent to `tc qdisc add dev
/// X clsact; tc filter add dev X egress bpf da …; tc filter add dev X ingress bpf da …`.
/// 0 or -errno (nothing left attached on failure; `stage` names the step that failed).
int nf_tc_attach_pair(int netns_fd, int ifindex, int egress_fd, int ingress_fd, int *created, uint32_t handles[2],
                      uint32_t priorities[2], char *stage, size_t stage_size);
/// A tcx link (Linux 6.6+) of `prog_fd` at the ingress of `ifindex` in the namespace
/// `netns_fd`: bpf_link_create with BPF_TCX_INGRESS, ahead of the clsact filters there and
/// without their classifier layers. The link lives as long as *link_fd (close it to detach;
/// the process's end does too). Equivalent to `bpftool net attach tcx_ingress …` (bpftool
/// 7.3+). 0 or -errno: -EINVAL where the kernel has no tcx (before 6.6).
int nf_tcx_attach_ingress(int netns_fd, int ifindex, int prog_fd, int *link_fd, char *stage, size_t stage_size);
/// The reverse, in the namespace: bpf_tc_detach of both filters, then bpf_tc_hook_destroy of
/// clsact when `destroy_hook` (it was created by nf_tc_attach_pair). 0 or the first -errno;
/// a device already gone (ENODEV, ENOENT) counts as detached.
int nf_tc_detach_pair(int netns_fd, int ifindex, const uint32_t handles[2], const uint32_t priorities[2],
                      int destroy_hook);

/// bpf_prog_test_run_opts on a tc program: runs it once on `data` (an Ethernet frame) with
/// `ctx_in`/`ctx_out` a struct __sk_buff (`ctx_size` bytes; NULL for none). 0 or -errno;
/// the program's return value in *retval, the packet after it in data_out (*data_out_size).
int nf_bpf_prog_test_run(int prog_fd, const void *data, uint32_t size, void *data_out, uint32_t *data_out_size,
                         const void *ctx_in, void *ctx_out, uint32_t ctx_size, uint32_t *retval);

/// bpf_prog_get_next_id / bpf_map_get_next_id: the next id after `start`, or -errno (-ENOENT:
/// none). Equivalent to walking `bpftool prog` / `bpftool map`.
int64_t nf_bpf_prog_next_id(uint32_t start);
int64_t nf_bpf_map_next_id(uint32_t start);

/// The kernel ids of the object's programs, then of its maps (with the top bit set), in
/// `ids` up to `capacity`: how many there are, or -errno. What `bpftool prog`/`map` list.
int64_t nf_bpf_object_ids(struct nf_bpf_object *object, uint32_t *ids, int capacity);

/// sizeof(struct __sk_buff) of libbpf's uapi header, for the test run's context.
uint32_t nf_bpf_sk_buff_size(void);

#endif
