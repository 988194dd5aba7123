#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "CNetfaultBPF.h"

// libbpf's messages, kept for errors: the tail matters (the verifier ends with why it
// refused), so older text is dropped when the buffer fills. Loading happens once per
// process, under the caller's lock.
static char log_buffer[8192];
static size_t log_length;

static int capture(enum libbpf_print_level level, const char *format, va_list arguments) {
    if (level == LIBBPF_DEBUG) return 0;
    char line[1024];
    int length = vsnprintf(line, sizeof(line), format, arguments);
    if (length <= 0) return 0;
    size_t size = (size_t)length < sizeof(line) ? (size_t)length : sizeof(line) - 1;
    if (log_length + size >= sizeof(log_buffer)) {
        size_t keep = sizeof(log_buffer) / 2 < log_length ? sizeof(log_buffer) / 2 : log_length;
        memmove(log_buffer, log_buffer + log_length - keep, keep);
        log_length = keep;
        if (log_length + size >= sizeof(log_buffer)) return 0;
    }
    memcpy(log_buffer + log_length, line, size);
    log_length += size;
    log_buffer[log_length] = 0;
    return 0;
}

static void begin_log(void) {
    log_length = 0;
    log_buffer[0] = 0;
    libbpf_set_print(capture);
}

static void copy_log(char *log, size_t log_size) {
    if (log && log_size) snprintf(log, log_size, "%s", log_buffer);
}

struct nf_bpf_object {
    struct bpf_object *object;
    struct bpf_link *links[16];
    int link_count;
};

struct nf_bpf_object *nf_bpf_object_load(const void *bytes, size_t size, const char *name, int *error,
                                         char *log, size_t log_size) {
    return nf_bpf_object_load_without(bytes, size, name, NULL, error, log, log_size);
}

struct nf_bpf_object *nf_bpf_object_load_without(const void *bytes, size_t size, const char *name, const char *left_out,
                                                 int *error, char *log, size_t log_size) {
    begin_log();
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = name);
    struct bpf_object *object = bpf_object__open_mem(bytes, size, &options);
    if (!object) {
        *error = -errno;
        copy_log(log, log_size);
        return NULL;
    }
    if (left_out) {
        struct bpf_program *program = bpf_object__find_program_by_name(object, left_out);
        if (program) bpf_program__set_autoload(program, false);
    }
    int result = bpf_object__load(object);
    if (result) {
        *error = result;
        copy_log(log, log_size);
        bpf_object__close(object);
        return NULL;
    }
    struct nf_bpf_object *holder = calloc(1, sizeof(*holder));
    if (!holder) {
        *error = -ENOMEM;
        bpf_object__close(object);
        return NULL;
    }
    holder->object = object;
    return holder;
}

int nf_bpf_object_attach_all(struct nf_bpf_object *holder, char *failed, size_t failed_size, char *log,
                             size_t log_size) {
    if (holder->link_count) return holder->link_count;
    begin_log();
    struct bpf_program *program;
    bpf_object__for_each_program(program, holder->object) {
        if (holder->link_count == (int)(sizeof(holder->links) / sizeof(holder->links[0]))) return -E2BIG;
        struct bpf_link *link = bpf_program__attach(program);
        if (!link) {
            int error = -errno;
            snprintf(failed, failed_size, "%s", bpf_program__section_name(program));
            copy_log(log, log_size);
            nf_bpf_object_detach_all(holder);
            return error;
        }
        holder->links[holder->link_count++] = link;
    }
    return holder->link_count;
}

int nf_bpf_object_attach_program(struct nf_bpf_object *holder, const char *name, char *log, size_t log_size) {
    if (holder->link_count == (int)(sizeof(holder->links) / sizeof(holder->links[0]))) return -E2BIG;
    struct bpf_program *program = bpf_object__find_program_by_name(holder->object, name);
    if (!program) return -ENOENT;
    begin_log();
    struct bpf_link *link = bpf_program__attach(program);
    if (!link) {
        int error = -errno;
        copy_log(log, log_size);
        return error;
    }
    holder->links[holder->link_count++] = link;
    return 0;
}

int nf_bpf_object_attached_count(const struct nf_bpf_object *holder) { return holder->link_count; }

void nf_bpf_object_detach_all(struct nf_bpf_object *holder) {
    for (int i = 0; i < holder->link_count; i++) bpf_link__destroy(holder->links[i]);
    holder->link_count = 0;
}

void nf_bpf_object_close(struct nf_bpf_object *holder) {
    if (!holder) return;
    nf_bpf_object_detach_all(holder);
    bpf_object__close(holder->object);
    free(holder);
}

int nf_bpf_enable_run_time_stats(void) {
    int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    return fd < 0 ? -errno : fd;
}

int nf_bpf_object_program_stats(struct nf_bpf_object *holder, int index, char *name, size_t name_size,
                                uint64_t *runs, uint64_t *nanoseconds) {
    struct bpf_program *program;
    int position = 0;
    bpf_object__for_each_program(program, holder->object) {
        if (position++ != index) continue;
        struct bpf_prog_info info;
        __u32 length = sizeof(info);
        memset(&info, 0, sizeof(info));
        if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &length)) return -errno;
        snprintf(name, name_size, "%s", bpf_program__name(program));
        *runs = info.run_cnt;
        *nanoseconds = info.run_time_ns;
        return 0;
    }
    return -ENOENT;
}

int nf_bpf_object_map_fd(struct nf_bpf_object *holder, const char *name) {
    struct bpf_map *map = bpf_object__find_map_by_name(holder->object, name);
    return map ? bpf_map__fd(map) : -ENOENT;
}

int nf_bpf_map_update_u32_u8(int fd, uint32_t key, uint8_t value) {
    return bpf_map_update_elem(fd, &key, &value, BPF_ANY) ? -errno : 0;
}

int nf_bpf_map_delete_u32(int fd, uint32_t key) { return bpf_map_delete_elem(fd, &key) ? -errno : 0; }

int nf_bpf_map_lookup_u32_u64(int fd, uint32_t key, uint64_t *value) {
    return bpf_map_lookup_elem(fd, &key, value) ? -errno : 0;
}

struct ring_handler {
    void (*handler)(void *context, const void *data, size_t size);
    void *context;
};

struct nf_bpf_ring {
    struct ring_buffer *ring;
    struct ring_handler handler;
    // Rings added to the same epoll (nf_bpf_ring_add), each with its own handler.
    struct ring_handler added[3];
    int added_count;
};

static int on_record(void *context, void *data, size_t size) {
    struct ring_handler *handler = context;
    handler->handler(handler->context, data, size);
    return 0;
}

struct nf_bpf_ring *nf_bpf_ring_new(int map_fd, void (*handler)(void *context, const void *data, size_t size),
                                    void *context, int *error) {
    struct nf_bpf_ring *ring = calloc(1, sizeof(*ring));
    if (!ring) {
        *error = -ENOMEM;
        return NULL;
    }
    ring->handler.handler = handler;
    ring->handler.context = context;
    ring->ring = ring_buffer__new(map_fd, on_record, &ring->handler, NULL);
    if (!ring->ring) {
        *error = -errno;
        free(ring);
        return NULL;
    }
    return ring;
}

int nf_bpf_ring_add(struct nf_bpf_ring *ring, int map_fd, void (*handler)(void *context, const void *data, size_t size),
                    void *context) {
    if (ring->added_count == (int)(sizeof(ring->added) / sizeof(ring->added[0]))) return -E2BIG;
    struct ring_handler *slot = &ring->added[ring->added_count];
    slot->handler = handler;
    slot->context = context;
    int result = ring_buffer__add(ring->ring, map_fd, on_record, slot);
    if (result) return result < 0 ? result : -EINVAL;
    ring->added_count++;
    return 0;
}

int nf_bpf_ring_poll(struct nf_bpf_ring *ring, int timeout_ms) { return ring_buffer__poll(ring->ring, timeout_ms); }

int nf_bpf_ring_consume(struct nf_bpf_ring *ring) { return ring_buffer__consume(ring->ring); }

void nf_bpf_ring_free(struct nf_bpf_ring *ring) {
    if (!ring) return;
    ring_buffer__free(ring->ring);
    free(ring);
}

int nf_btf_enum_members(const char *enum_name, void (*each)(void *context, int64_t value, const char *name),
                        void *context) {
    struct btf *btf = btf__load_vmlinux_btf();
    if (!btf) return -errno;
    int id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
    if (id < 0) {
        btf__free(btf);
        return -ENOENT;
    }
    const struct btf_type *type = btf__type_by_id(btf, id);
    const struct btf_enum *member = btf_enum(type);
    int count = btf_vlen(type);
    for (int i = 0; i < count; i++, member++) each(context, member->val, btf__name_by_offset(btf, member->name_off));
    btf__free(btf);
    return count;
}

// ---- The tc fault engine ----

// The maps' layouts, shared with bpf/fault_engine.bpf.c; Faults/KernelFaults.swift writes
// and reads the same offsets (and checks the sizes on its side).
#include <linux/types.h>
#include "../../bpf/fault_engine.h"
_Static_assert(sizeof(struct nf_engine_config) == 40, "nf_engine_config");
_Static_assert(sizeof(struct nf_fault_rule) == 40, "nf_fault_rule");
_Static_assert(sizeof(struct nf_impairment) == 56, "nf_impairment");
_Static_assert(sizeof(struct nf_flow) == 40, "nf_flow");
_Static_assert(sizeof(struct nf_destination_key) == 24, "nf_destination_key");
_Static_assert(sizeof(struct nf_occurrence_key) == 48, "nf_occurrence_key");
_Static_assert(sizeof(struct nf_class_state) == 16, "nf_class_state");
_Static_assert(sizeof(struct nf_identity_state) == 32, "nf_identity_state");
_Static_assert(sizeof(struct nf_retransmission_key) == 48, "nf_retransmission_key");
_Static_assert(sizeof(struct nf_fault_decision) == 216, "nf_fault_decision");
_Static_assert(__builtin_offsetof(struct nf_fault_decision, packet) == 88, "nf_fault_decision.packet");
_Static_assert(__builtin_offsetof(struct nf_fault_decision, gso_segs) == 80, "nf_fault_decision.gso_segs");
_Static_assert(__builtin_offsetof(struct nf_fault_rule, port) == 32, "nf_fault_rule.port");
_Static_assert(__builtin_offsetof(struct nf_impairment, ifindex) == 48, "nf_impairment.ifindex");

// The capture's ring records (bpf/capture.bpf.c, bpf/departures.bpf.c; Capture/BPFCapture.swift
// and Capture/DepartureRecorder.swift read and write these offsets).
#include "../../bpf/capture.h"
_Static_assert(sizeof(struct nf_capture_record) == 24 + NF_CAPTURE_BYTES, "nf_capture_record");
_Static_assert(__builtin_offsetof(struct nf_capture_record, bytes) == 24, "nf_capture_record.bytes");
_Static_assert(sizeof(struct nf_capture_departure) == 24, "nf_capture_departure");
_Static_assert(sizeof(struct nf_capture_departure_batch) == 8 + 24 * NF_DEPARTURE_BATCH, "nf_capture_departure_batch");
_Static_assert(NF_DEPARTURE_BATCH == 32, "NF_DEPARTURE_BATCH: Capture/DepartureRecorder.swift's batch");
_Static_assert(__builtin_offsetof(struct nf_capture_departure, slot) == 20, "nf_capture_departure.slot");
_Static_assert(sizeof(struct nf_departure_namespace) == 16, "nf_departure_namespace");
_Static_assert(__builtin_offsetof(struct nf_departure_namespace, devices) == 8, "nf_departure_namespace.devices");
_Static_assert(__builtin_offsetof(struct nf_departure_namespace, overflow) == 6, "nf_departure_namespace.overflow");
_Static_assert(NF_DEPARTURE_INDEX == 256 && NF_DEPARTURE_HOSTS == 256, "Capture/DepartureRecorder.swift's indexes and maximumHosts");
_Static_assert(sizeof(struct nf_departure_device) == 8, "nf_departure_device");

int nf_bpf_possible_cpus(void) { return libbpf_num_possible_cpus(); }
_Static_assert(__builtin_offsetof(struct nf_capture_departure, length) == 16, "nf_capture_departure.length");

#include <pthread.h>
#include <sched.h>
#include <linux/pkt_cls.h>

int nf_bpf_object_program_fd(struct nf_bpf_object *holder, const char *name) {
    struct bpf_program *program = bpf_object__find_program_by_name(holder->object, name);
    return program ? bpf_program__fd(program) : -ENOENT;
}

int nf_bpf_map_update(int fd, const void *key, const void *value, uint64_t flags) {
    return bpf_map_update_elem(fd, key, value, flags) ? -errno : 0;
}

int nf_bpf_map_lookup(int fd, const void *key, void *value) { return bpf_map_lookup_elem(fd, key, value) ? -errno : 0; }

int nf_bpf_map_delete(int fd, const void *key) { return bpf_map_delete_elem(fd, key) ? -errno : 0; }

// setns() changes the calling thread's namespace for good: the tc work runs on a thread
// that exists only for it (as CNetfault's netns.c does for sockets).
struct tc_job {
    int netns_fd, ifindex, egress_fd, ingress_fd, destroy_hook, attach;
    int tcx, link_fd;  // a tcx link of ingress_fd instead of clsact filters, and its fd
    int created;
    uint32_t handles[2], priorities[2];
    const char *stage;
    int result;
};

static int tc_detach_in_namespace(struct tc_job *job) {
    int first = 0;
    for (int i = 0; i < 2; i++) {
        if (!job->handles[i]) continue;
        LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = job->ifindex, .attach_point = i == 0 ? BPF_TC_EGRESS : BPF_TC_INGRESS);
        LIBBPF_OPTS(bpf_tc_opts, opts, .handle = job->handles[i], .priority = job->priorities[i]);
        int result = bpf_tc_detach(&hook, &opts);
        if (result && result != -ENODEV && result != -ENOENT && !first) first = result;
    }
    if (job->destroy_hook) {
        LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = job->ifindex, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
        int result = bpf_tc_hook_destroy(&hook);
        if (result && result != -ENODEV && result != -ENOENT && !first) first = result;
    }
    return first;
}

static int tc_attach_in_namespace(struct tc_job *job) {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = job->ifindex, .attach_point = BPF_TC_EGRESS);
    job->stage = "tc qdisc add clsact";
    int result = bpf_tc_hook_create(&hook);
    if (result && result != -EEXIST) return result;
    job->created = result == 0;
    int fds[2] = {job->egress_fd, job->ingress_fd};
    for (int i = 0; i < 2; i++) {
        if (fds[i] < 0) continue;
        job->stage = i == 0 ? "tc filter add egress bpf" : "tc filter add ingress bpf";
        hook.attach_point = i == 0 ? BPF_TC_EGRESS : BPF_TC_INGRESS;
        // 0: the kernel picks (one below the first filter's, so ahead of it).
        LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = fds[i], .priority = job->priorities[i]);
        result = bpf_tc_attach(&hook, &opts);
        if (result) {
            job->destroy_hook = job->created;
            tc_detach_in_namespace(job);
            job->handles[0] = job->handles[1] = 0;
            return result;
        }
        job->handles[i] = opts.handle;
        job->priorities[i] = opts.priority;
    }
    return 0;
}

// BPF_TCX_INGRESS (Linux 6.6): Debian 12's uapi headers (6.1) do not have it; the kernel's
// ABI fixes its value (enum bpf_attach_type: ..., BPF_STRUCT_OPS, BPF_NETFILTER, BPF_TCX_INGRESS).
#define NF_BPF_TCX_INGRESS 46

// The target ifindex is looked up in the calling thread's namespace.
static int tcx_attach_in_namespace(struct tc_job *job) {
    job->stage = "bpf link create tcx_ingress";
    int fd = bpf_link_create(job->ingress_fd, job->ifindex, (enum bpf_attach_type)NF_BPF_TCX_INGRESS, NULL);
    if (fd < 0) return fd;  // libbpf 1.x: -errno
    job->link_fd = fd;
    return 0;
}

static void *tc_thread(void *p) {
    struct tc_job *job = p;
    if (setns(job->netns_fd, CLONE_NEWNET) != 0) {
        job->stage = "setns";
        job->result = -errno;
        return NULL;
    }
    job->result = job->tcx ? tcx_attach_in_namespace(job) : job->attach ? tc_attach_in_namespace(job) : tc_detach_in_namespace(job);
    return NULL;
}

static int run_tc_job(struct tc_job *job) {
    pthread_t thread;
    int error = pthread_create(&thread, NULL, tc_thread, job);
    if (error) return -error;
    pthread_join(thread, NULL);
    return job->result;
}

int nf_tc_attach_pair(int netns_fd, int ifindex, int egress_fd, int ingress_fd, int *created, uint32_t handles[2],
                      uint32_t priorities[2], char *stage, size_t stage_size) {
    struct tc_job job = {.netns_fd = netns_fd, .ifindex = ifindex, .egress_fd = egress_fd, .ingress_fd = ingress_fd,
                         .attach = 1, .stage = "", .result = -EINVAL};
    for (int i = 0; i < 2; i++) job.priorities[i] = priorities[i];
    int result = run_tc_job(&job);
    *created = job.created;
    for (int i = 0; i < 2; i++) {
        handles[i] = job.handles[i];
        priorities[i] = job.priorities[i];
    }
    if (stage && stage_size) snprintf(stage, stage_size, "%s", job.stage ? job.stage : "");
    return result;
}

int nf_tcx_attach_ingress(int netns_fd, int ifindex, int prog_fd, int *link_fd, char *stage, size_t stage_size) {
    struct tc_job job = {.netns_fd = netns_fd, .ifindex = ifindex, .egress_fd = -1, .ingress_fd = prog_fd, .tcx = 1,
                         .link_fd = -1, .stage = "", .result = -EINVAL};
    int result = run_tc_job(&job);
    *link_fd = job.link_fd;
    if (stage && stage_size) snprintf(stage, stage_size, "%s", job.stage ? job.stage : "");
    return result;
}

int nf_tc_detach_pair(int netns_fd, int ifindex, const uint32_t handles[2], const uint32_t priorities[2],
                      int destroy_hook) {
    struct tc_job job = {.netns_fd = netns_fd, .ifindex = ifindex, .destroy_hook = destroy_hook, .attach = 0,
                         .result = -EINVAL};
    for (int i = 0; i < 2; i++) {
        job.handles[i] = handles[i];
        job.priorities[i] = priorities[i];
    }
    return run_tc_job(&job);
}

int nf_bpf_prog_test_run(int prog_fd, const void *data, uint32_t size, void *data_out, uint32_t *data_out_size,
                         const void *ctx_in, void *ctx_out, uint32_t ctx_size, uint32_t *retval) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = size, .data_out = data_out,
                .data_size_out = data_out_size ? *data_out_size : 0, .ctx_in = ctx_in, .ctx_size_in = ctx_in ? ctx_size : 0,
                .ctx_out = ctx_out, .ctx_size_out = ctx_out ? ctx_size : 0, .repeat = 1);
    if (bpf_prog_test_run_opts(prog_fd, &opts)) return -errno;
    if (data_out_size) *data_out_size = opts.data_size_out;
    *retval = opts.retval;
    return 0;
}

int64_t nf_bpf_prog_next_id(uint32_t start) {
    __u32 next = 0;
    return bpf_prog_get_next_id(start, &next) ? -errno : (int64_t)next;
}

int64_t nf_bpf_map_next_id(uint32_t start) {
    __u32 next = 0;
    return bpf_map_get_next_id(start, &next) ? -errno : (int64_t)next;
}

uint32_t nf_bpf_sk_buff_size(void) { return sizeof(struct __sk_buff); }

int nf_bpf_map_clear(int fd, uint32_t key_size) {
    enum { batch = 256 };
    unsigned char keys[batch][64];  // 16 KiB on the stack: no state shared between engines
    if (key_size > sizeof(keys[0])) return -E2BIG;
    int count = 0;
    for (;;) {
        // Collect keys by walking on from the previous one (one pass over the buckets; a
        // walk restarted from NULL after each delete would scan the empty buckets every time),
        // then delete them.
        int found = 0;
        const void *previous = NULL;
        while (found < batch && bpf_map_get_next_key(fd, previous, keys[found]) == 0) {
            previous = keys[found];
            found++;
        }
        for (int i = 0; i < found; i++)
            if (bpf_map_delete_elem(fd, keys[i]) && errno != ENOENT) return -errno;
        count += found;
        if (found < batch) return count;
    }
}

int64_t nf_bpf_object_ids(struct nf_bpf_object *holder, uint32_t *ids, int capacity) {
    int count = 0;
    struct bpf_program *program;
    bpf_object__for_each_program(program, holder->object) {
        struct bpf_prog_info info;
        __u32 length = sizeof(info);
        memset(&info, 0, sizeof(info));
        if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &length)) return -errno;
        if (count < capacity) ids[count] = info.id;
        count++;
    }
    struct bpf_map *map;
    bpf_object__for_each_map(map, holder->object) {
        struct bpf_map_info info;
        __u32 length = sizeof(info);
        memset(&info, 0, sizeof(info));
        if (bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &length)) return -errno;
        if (count < capacity) ids[count] = info.id | 0x80000000u;
        count++;
    }
    return count;
}
