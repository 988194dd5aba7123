import CNetfaultBPF
import Foundation
import Glibc

/// A BPF object (ELF with programs, maps and BTF) opened, CO-RE-relocated against the
/// running kernel's BTF and loaded through libbpf; its programs attached on demand. The one
/// caller of libbpf (through CNetfaultBPF). Equivalent to `bpftool prog loadall OBJ DIR`,
/// then `autoattach`, without pinning: closing the object detaches everything.
final class BPFObject {
    private let object: OpaquePointer

    /// libbpf's messages go to one buffer in the shim: one load at a time.
    private static let loading = NSLock()

    /// Opens and loads `bytes`, every program; the verifier's refusal, if any, is in the error.
    init(bytes: [UInt8], name: String) throws {
        var error: Int32 = 0
        var log = [CChar](repeating: 0, count: 4096)
        let loaded = Self.loading.withLock {
            bytes.withUnsafeBytes { nf_bpf_object_load($0.baseAddress, $0.count, name, &error, &log, log.count) }
        }
        guard let loaded else { throw BPFError("load \(name)", errno: -error, log: Self.text(log)) }
        object = loaded
    }

    /// The descriptor of the program whose C function is `name`.
    func programFD(_ name: String) throws -> Int32 {
        let fd = nf_bpf_object_program_fd(object, name)
        if fd < 0 { throw BPFError("find BPF program \(name)", errno: -fd) }
        return fd
    }

    /// The kernel ids of the object's programs and maps (`bpftool prog` / `bpftool map`).
    func ids() -> (programs: Set<UInt32>, maps: Set<UInt32>) {
        var ids = [UInt32](repeating: 0, count: 64)
        let count = Int(max(0, min(64, nf_bpf_object_ids(object, &ids, Int32(ids.count)))))
        let all = ids.prefix(count)
        return (Set(all.filter { $0 & 0x8000_0000 == 0 }), Set(all.filter { $0 & 0x8000_0000 != 0 }.map { $0 & 0x7FFF_FFFF }))
    }

    /// Equivalent to `bpftool map update id ID key … value …` with the map's own key and
    /// value layouts as bytes.
    static func update(map fd: Int32, key: [UInt8], value: [UInt8], operation: String) throws {
        let result = key.withUnsafeBytes { k in value.withUnsafeBytes { v in nf_bpf_map_update(fd, k.baseAddress, v.baseAddress, 0) } }
        if result != 0 { throw BPFError(operation, errno: -result) }
    }

    /// Equivalent to `bpftool map delete id ID key …` with the map's own key layout as bytes;
    /// a key already absent is not an error.
    static func delete(map fd: Int32, key: [UInt8]) {
        _ = key.withUnsafeBytes { nf_bpf_map_delete(fd, $0.baseAddress) }
    }

    /// Equivalent to `bpftool map lookup id ID key …`: the value's bytes, nil when absent.
    static func lookup(map fd: Int32, key: [UInt8], valueSize: Int) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: valueSize)
        let result = key.withUnsafeBytes { k in value.withUnsafeMutableBytes { nf_bpf_map_lookup(fd, k.baseAddress, $0.baseAddress) } }
        return result == 0 ? value : nil
    }

    /// Attaches every program (nothing if they are attached); how many. On failure none is attached.
    @discardableResult
    func attach() throws -> Int {
        var failed = [CChar](repeating: 0, count: 128), log = [CChar](repeating: 0, count: 4096)
        let result = nf_bpf_object_attach_all(object, &failed, failed.count, &log, log.count)
        if result < 0 { throw BPFError("attach \(Self.text(failed))", errno: -result, log: Self.text(log)) }
        return Int(result)
    }

    /// Attaches the one program whose C function is `name` (by its section, e.g. a tp_btf
    /// tracepoint); `detach()` detaches it with the others. Equivalent to `bpftool prog
    /// attach` of a tracing program.
    func attachProgram(_ name: String) throws {
        var log = [CChar](repeating: 0, count: 4096)
        let result = Self.loading.withLock { nf_bpf_object_attach_program(object, name, &log, log.count) }
        if result < 0 { throw BPFError("attach \(name)", errno: -result, log: Self.text(log)) }
    }

    /// How many programs are attached now.
    var attachedCount: Int { Int(nf_bpf_object_attached_count(object)) }

    /// Detaches every program; the maps and their contents stay.
    func detach() { nf_bpf_object_detach_all(object) }

    deinit { nf_bpf_object_close(object) }

    /// A NUL-terminated C buffer's text.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func mapFD(_ name: String) throws -> Int32 {
        let fd = nf_bpf_object_map_fd(object, name)
        if fd < 0 { throw BPFError("find BPF map \(name)", errno: -fd) }
        return fd
    }

    /// Each program's runs and run time so far (counted only while run-time stats are on);
    /// what `bpftool prog show` prints as run_cnt and run_time_ns.
    func programStats() -> [ProgramCost] {
        var stats: [ProgramCost] = []
        var name = [CChar](repeating: 0, count: 64)
        var runs: UInt64 = 0, nanoseconds: UInt64 = 0
        while nf_bpf_object_program_stats(object, Int32(stats.count), &name, name.count, &runs, &nanoseconds) == 0 {
            stats.append(ProgramCost(program: Self.text(name), runs: runs, nanoseconds: nanoseconds))
        }
        return stats
    }

    /// Runs `body` with the kernel counting every program's run time: equivalent to
    /// `sysctl kernel.bpf_stats_enabled=1` for its duration, without changing the sysctl
    /// (BPF_ENABLE_STATS holds it on while its descriptor is open).
    static func withRunTimeStats<T>(_ body: () throws -> T) throws -> T {
        let fd = nf_bpf_enable_run_time_stats()
        if fd < 0 { throw BPFError("enable BPF run-time stats", errno: -fd) }
        defer { Sys.close(fd) }
        return try body()
    }

    /// Equivalent to `bpftool map update id ID key … value …`.
    static func update(map fd: Int32, key: UInt32, value: UInt8) throws {
        let result = nf_bpf_map_update_u32_u8(fd, key, value)
        if result != 0 { throw BPFError("update BPF map", errno: -result) }
    }

    /// Equivalent to `bpftool map delete id ID key …`.
    static func delete(map fd: Int32, key: UInt32) { _ = nf_bpf_map_delete_u32(fd, key) }

    /// Equivalent to `bpftool map lookup id ID key …`; nil when the key is absent.
    static func lookupU64(map fd: Int32, key: UInt32) -> UInt64? {
        var value: UInt64 = 0
        return nf_bpf_map_lookup_u32_u64(fd, key, &value) == 0 ? value : nil
    }
}

/// A BPF ring buffer's consumer: `poll` calls `handler` with each record, in order.
final class BPFRingBuffer {
    typealias Handler = (UnsafeRawBufferPointer) -> Void
    private var ring: OpaquePointer?
    private let box: Box
    private var added: [Box] = []

    private final class Box {
        let handler: Handler
        init(_ handler: @escaping Handler) { self.handler = handler }
    }

    init(mapFD: Int32, handler: @escaping Handler) throws {
        box = Box(handler)
        var error: Int32 = 0
        ring = nf_bpf_ring_new(mapFD, { context, data, size in
            Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue().handler(UnsafeRawBufferPointer(start: data, count: size))
        }, Unmanaged.passUnretained(box).toOpaque(), &error)
        if ring == nil { throw BPFError("ring_buffer__new", errno: -error) }
    }

    deinit { nf_bpf_ring_free(ring) }

    /// Reads another ring map in the same `poll` and `consume` (ring_buffer__add), its
    /// records to `handler`.
    func add(mapFD: Int32, handler: @escaping Handler) throws {
        let box = Box(handler)
        let result = nf_bpf_ring_add(ring, mapFD, { context, data, size in
            Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue().handler(UnsafeRawBufferPointer(start: data, count: size))
        }, Unmanaged.passUnretained(box).toOpaque())
        if result != 0 { throw BPFError("ring_buffer__add", errno: -result) }
        added.append(box)
    }

    /// Waits up to `timeoutMilliseconds` for records (epoll), then consumes all there are.
    func poll(timeoutMilliseconds: Int32) throws {
        let result = nf_bpf_ring_poll(ring, timeoutMilliseconds)
        if result < 0 && result != -EINTR { throw BPFError("ring_buffer__poll", errno: -result) }
    }

    /// Consumes the records there now without waiting, including those submitted without a
    /// wake-up (which `poll` does not see: epoll reports the ring only when woken).
    func consume() throws {
        let result = nf_bpf_ring_consume(ring)
        if result < 0 { throw BPFError("ring_buffer__consume", errno: -result) }
    }

    /// Reads until `stopRequested()`, then once more. The programs wake the reader only when
    /// the ring is a quarter full, so each wait is followed by a consume of whatever it saw;
    /// the last read takes the records submitted before the stop was asked for.
    func drain(pollMilliseconds: Int32, until stopRequested: () -> Bool) throws {
        while !stopRequested() {
            try poll(timeoutMilliseconds: pollMilliseconds)
            try consume()
        }
        try consume()
    }
}

/// Names of a kernel enum's members, from the running kernel's BTF: what `bpftool btf
/// dump file /sys/kernel/btf/vmlinux` prints for `enum NAME`. Drop and reset reasons are
/// numbered differently by each kernel version, so only names mean anything.
public enum KernelEnumNames {
    /// Value → name without `prefix` (SKB_DROP_REASON_NO_SOCKET → NO_SOCKET); empty when
    /// the kernel has no BTF or no such enum.
    public static func names(of enumName: String, droppingPrefix prefix: String) -> [UInt32: String] {
        final class Collector {
            var names: [UInt32: String] = [:]
            let prefix: String
            init(prefix: String) { self.prefix = prefix }
        }
        let collector = Collector(prefix: prefix)
        _ = nf_btf_enum_members(enumName, { context, value, name in
            let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
            guard let name else { return }
            let text = String(cString: name)
            collector.names[UInt32(truncatingIfNeeded: value)] =
                text.hasPrefix(collector.prefix) ? String(text.dropFirst(collector.prefix.count)) : text
        }, Unmanaged.passUnretained(collector).toOpaque())
        return collector.names
    }
}

/// A libbpf operation that failed: its errno and, for a load, libbpf's log (the verifier's
/// last lines say why it refused).
public struct BPFError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let errno: Int32
    public let log: String

    init(_ operation: String, errno: Int32, log: String = "") {
        self.operation = operation
        self.errno = errno
        self.log = log
    }

    /// The operation, the errno, and why: the verifier's last two lines before libbpf's
    /// "-- END PROG LOAD LOG --", or libbpf's own last line.
    public var description: String {
        var text = "\(operation): \(String(cString: strerror(errno))) (\(Errno.name(errno)))"
        let lines = log.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let why: ArraySlice<String>
        if let end = lines.lastIndex(where: { $0.contains("END PROG LOAD LOG") }) {
            why = lines[..<end].suffix(2) + lines[(end + 1)...].prefix(1)
        } else {
            why = lines.suffix(1)
        }
        if !why.isEmpty { text += ": " + why.joined(separator: " / ") }
        return text
    }
}
