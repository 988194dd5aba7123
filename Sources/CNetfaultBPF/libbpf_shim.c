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
    begin_log();
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = name);
    struct bpf_object *object = bpf_object__open_mem(bytes, size, &options);
    if (!object) {
        *error = -errno;
        copy_log(log, log_size);
        return NULL;
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

int nf_bpf_ring_poll(struct nf_bpf_ring *ring, int timeout_ms) { return ring_buffer__poll(ring->ring, timeout_ms); }

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
