import CNetfault
import Glibc

/// The only file in netfault that calls libc or the C shim's system-call wrappers.
/// Each wrapper retries EINTR where that is right and turns -1/errno into a throw.
enum Sys {
    static func check(_ operation: @autoclosure () -> String, _ result: Int32) throws -> Int32 {
        if result < 0 { throw KernelError(operation(), errno: errno) }
        return result
    }

    /// For the C shim's convention: a result of -errno.
    static func checkNegative(_ operation: @autoclosure () -> String, _ result: Int32) throws -> Int32 {
        if result < 0 { throw KernelError(operation(), errno: -result) }
        return result
    }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// `sysctls` are written inside the new namespace on the thread that makes it.
    static func netnsCreate(parent: Int32, sysctls: [(name: String, value: String)]) throws -> Int32 {
        let writes = sysctls.flatMap { [SysctlAccess.path(of: $0.name), $0.value + "\n"] }
        let operation = (["unshare(CLONE_NEWNET)"] + sysctls.map { "sysctl -w \($0.name)=\($0.value)" }).joined(separator: ", ")
        return try checkNegative(operation, withCStrings(writes) { nf_netns_create(parent, $0) })
    }

    /// `writes` are (path under /sys, value) pairs, written as the namespace sees /sys.
    static func sysfsWrite(inNamespace fd: Int32, _ writes: [(path: String, value: String)], operation: String) throws {
        _ = try checkNegative(operation, withCStrings(writes.flatMap { [$0.path, $0.value] }) { nf_netns_sysfs_write(fd, $0) })
    }

    static func socket(inNamespace fd: Int32, domain: Int32, type: Int32, protocol proto: Int32, operation: String) throws -> Int32 {
        try checkNegative(operation, nf_socket_in_netns(fd, domain, type, proto))
    }

    static func open(inNamespace fd: Int32, path: String, flags: Int32) throws -> Int32 {
        try checkNegative("open \(path)", nf_open_in_netns(fd, path, flags))
    }

    static func pin(namespace fd: Int32, at path: String) throws {
        let file = Glibc.open(path, O_CREAT | O_RDONLY | O_CLOEXEC | O_EXCL, 0o444)
        _ = try check("create \(path)", file)
        Glibc.close(file)
        do {
            _ = try checkNegative("mount --bind \(path)", nf_netns_pin(fd, path))
        } catch {
            _ = Glibc.unlink(path)
            throw error
        }
    }

    static func unpin(_ path: String) {
        _ = umount2(path, Int32(MNT_DETACH))
        _ = Glibc.unlink(path)
    }

    static func makeDirectory(_ path: String) {
        _ = mkdir(path, 0o755)
    }

    /// mkdir(2), an existing directory being fine.
    static func requireDirectory(_ path: String, operation: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw KernelError(operation, errno: errno) }
    }

    /// rmdir: only an empty directory goes.
    static func removeDirectory(_ path: String) {
        _ = rmdir(path)
    }

    static func ethtool(socket: Int32, link: String, command: UInt32, value: UInt32, operation: String) throws {
        _ = try checkNegative(operation, nf_ethtool_set(socket, link, command, value))
    }

    static func send(_ fd: Int32, _ bytes: [UInt8], operation: String) throws {
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        if sent < 0 { throw KernelError(operation, errno: errno) }
    }

    /// Receives one datagram into `buffer`, returning its length.
    static func receive(_ fd: Int32, into buffer: inout [UInt8], operation: String) throws -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return count }
            if errno != EINTR { throw KernelError(operation, errno: errno) }
        }
    }

    static func setSocketOption(_ fd: Int32, level: Int32, name: Int32, value: Int32, operation: String) throws {
        var value = value
        _ = try check(operation, setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)))
    }

    static func write(_ fd: Int32, _ text: String, operation: String) throws {
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if written < 0 { throw KernelError(operation, errno: errno) }
        if written != bytes.count { throw KernelError(operation, errno: EIO) }
    }

    /// Reads a whole (small, proc/sys) file from offset 0 through a kept-open fd.
    static func readAll(_ fd: Int32, operation: String) throws -> String {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw KernelError(operation, errno: errno)
            }
            if count == 0 { break }
            result += chunk[0..<count]
            offset += off_t(count)
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Reads what is available from a pipe; 0 means end of file.
    static func read(_ fd: Int32, into buffer: inout [UInt8]) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count >= 0 || errno != EINTR { return max(count, 0) }
        }
    }

    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        _ = try check("pipe2", nf_pipe_cloexec(&fds))
        return (fds[0], fds[1])
    }

    /// Grows a pipe's capacity (fewer wake-ups for a fast writer): the new capacity, or nil
    /// if the kernel refused (beyond /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE).
    @discardableResult
    static func setPipeSize(_ fd: Int32, bytes: Int32) -> Int? {
        let result = nf_set_pipe_size(fd, bytes)
        return result >= 0 ? Int(result) : nil
    }

    /// tee(2) from pipe to pipe: duplicates up to `length` bytes without consuming them.
    static func tee(from input: Int32, to output: Int32, length: Int) throws -> Int {
        while true {
            let result = nf_tee(input, output, UInt(length))
            if result >= 0 { return result }
            if result != -Int(EINTR) { throw KernelError("tee", errno: Int32(-result)) }
        }
    }

    /// splice(2) between a pipe and a file: moves up to `length` bytes inside the kernel.
    static func splice(from input: Int32, to output: Int32, length: Int) throws -> Int {
        while true {
            let result = nf_splice(input, output, UInt(length))
            if result >= 0 { return result }
            if result != -Int(EINTR) { throw KernelError("splice", errno: Int32(-result)) }
        }
    }

    /// Reads what is available into raw memory; 0 means end of file.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 || errno != EINTR { return max(count, 0) }
        }
    }

    /// Writes every byte, retrying short writes and EINTR; throws the first error (EPIPE when the
    /// reader is gone; ENOSPC and EIO for files).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, operation: @autoclosure () -> String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw KernelError(operation(), errno: errno)
            }
            offset += written
        }
    }

    /// open(2) with O_CLOEXEC: for reading, or for writing (created 0644, truncated).
    static func open(_ path: String, forWriting: Bool) throws -> Int32 {
        let flags = O_CLOEXEC | (forWriting ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY)
        return try check("open \(path)", Glibc.open(path, flags, 0o644))
    }

    /// memchr: the index of the first `byte`, found at memory speed.
    static func indexOfByte(_ byte: UInt8, in buffer: UnsafeRawBufferPointer) -> Int? {
        guard let base = buffer.baseAddress, let found = memchr(base, Int32(byte), buffer.count) else { return nil }
        return UnsafeRawPointer(found) - base
    }

    /// memmem: whether `needle` occurs in `haystack` (an empty needle always does).
    static func contains(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer) -> Bool {
        guard !needle.isEmpty else { return true }
        guard let base = haystack.baseAddress, haystack.count >= needle.count else { return false }
        return nf_contains(base, UInt(haystack.count), needle.baseAddress!, UInt(needle.count)) != 0
    }

    /// Blocks SIGPIPE on the calling thread, so a write to a closed pipe fails with EPIPE
    /// instead of ending netfault (a thread-directed signal stays with the thread).
    static func blockBrokenPipeSignal() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    static func spawn(_ request: inout nf_spawn_request, operation: String) throws -> pid_t {
        try checkNegative(operation, nf_spawn(&request))
    }

    static func kill(processGroup pid: pid_t, signal: Int32) {
        _ = Glibc.kill(-pid, signal)
    }

    /// Waits for `pid`; nil when it is still running (WNOHANG).
    static func wait(_ pid: pid_t, block: Bool) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, block ? 0 : WNOHANG)
            if result == pid { return status }
            if result == 0 { return nil }
            if errno != EINTR { return -1 }
        }
    }

    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// CLOCK_MONOTONIC (shared by all network namespaces), the clock of the peer's event times.
    static func monotonicNanoseconds() -> Int64 { nanoseconds(of: CLOCK_MONOTONIC) }

    /// CLOCK_REALTIME, the clock of packet timestamps.
    static func realtimeNanoseconds() -> Int64 { nanoseconds(of: CLOCK_REALTIME) }

    /// CLOCK_MONOTONIC_COARSE: CLOCK_MONOTONIC as of the kernel's last tick, when jiffies moved too.
    static func coarseMonotonicNanoseconds() -> Int64 { nanoseconds(of: CLOCK_MONOTONIC_COARSE) }

    /// The resolution of CLOCK_MONOTONIC_COARSE: the kernel's tick (1/CONFIG_HZ).
    static func coarseResolutionNanoseconds() -> Int64 {
        var resolution = timespec()
        clock_getres(CLOCK_MONOTONIC_COARSE, &resolution)
        return Int64(resolution.tv_sec) * 1_000_000_000 + Int64(resolution.tv_nsec)
    }

    private static func nanoseconds(of clock: clockid_t) -> Int64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    static func sleep(nanoseconds: Int64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    static func effectiveUserID() -> uid_t { geteuid() }

    static func kernelRelease() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// CPUID leaf 0x40000000's vendor signature, nil without a hypervisor (or off x86).
    static func hypervisorSignature() -> String? {
        var buffer = [CChar](repeating: 0, count: 13)
        guard nf_cpuid_hypervisor(&buffer) == 1 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count == 0 { break }
            result += chunk[0..<count]
        }
        return String(decoding: result, as: UTF8.self)
    }

    static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    /// A regular file we may execute, as execvp looks for (access(X_OK) alone is true for directories).
    static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && access(path, X_OK) == 0
    }

    static func unlink(_ path: String) { _ = Glibc.unlink(path) }

    /// stat's file type (S_IFDIR, S_IFREG…), or the errno when there is nothing to stat.
    static func fileType(_ path: String) -> Result<mode_t, KernelError> {
        var info = stat()
        return stat(path, &info) == 0 ? .success(info.st_mode & S_IFMT) : .failure(KernelError(path, errno: errno))
    }

    /// access(2), throwing the errno that says why not.
    static func requireAccess(_ path: String, _ mode: Int32, operation: String) throws {
        if Glibc.access(path, mode) != 0 { throw KernelError(operation, errno: errno) }
    }

    static func openFile(_ path: String, flags: Int32, operation: String) throws -> Int32 {
        try check(operation, Glibc.open(path, flags | O_CLOEXEC, 0o644))
    }

    /// close(2) of a file just written: where NFS and full disks report late errors.
    static func closeChecked(_ fd: Int32, operation: String) throws {
        if Glibc.close(fd) != 0 { throw KernelError(operation, errno: errno) }
    }

    /// fstat(fd).st_ino: for a namespace fd, the namespace's inode (what `ls -Li /proc/PID/ns/net` shows).
    static func inode(of fd: Int32, operation: String) throws -> UInt64 {
        var info = stat()
        _ = try check(operation, fstat(fd, &info))
        return UInt64(info.st_ino)
    }

    static func processID() -> pid_t { getpid() }

    /// Whether a process still runs: kill(pid, 0) finds it, and /proc/PID/stat does not say it
    /// is a zombie (an orchestrator killed with SIGKILL stays one until its parent reaps it,
    /// and what it held must be cleaned up meanwhile).
    static func processIsRunning(_ pid: pid_t) -> Bool {
        guard Glibc.kill(pid, 0) == 0 || errno != ESRCH else { return false }
        let fd = Glibc.open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        // "PID (comm) S …": the state follows the last ')' (comm may hold parentheses).
        guard count > 0, let close = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")), close + 2 < count else { return true }
        let state = buffer[close + 2]
        return state != UInt8(ascii: "Z") && state != UInt8(ascii: "X")
    }

    /// getrusage(RUSAGE_SELF): user + system CPU seconds of this process, all threads.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func kill(process pid: pid_t, signal: Int32) { _ = Glibc.kill(pid, signal) }

    /// Every process whose process group is `group` (getpgid over /proc).
    static func processes(inGroup group: pid_t) -> [pid_t] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let pid = pid_t(name), getpgid(pid) == group { found.append(pid) }
        }
        return found
    }

    /// "net:[4026531840]", the identity of a process's network namespace; nil when it is gone.
    static func networkNamespace(of pid: pid_t) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let length = readlink("/proc/\(pid)/ns/net", &buffer, buffer.count - 1)
        return length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }

    /// inet_pton for IPv4, then IPv6: the address's bytes in network order.
    static func parseAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    static func formatAddress(_ bytes: [UInt8], family: Int32) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Calls `body` with a NULL-terminated C array of the strings (argv, envp).
func withCStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    var array = pointers
    return array.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}

/// A C string for the body's duration, or NULL for nil.
func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}

// MARK: - NFQUEUE socket and packet injection (nfq helper: NfqueueSocket, PacketInjector)

extension Sys {
    /// poll(2) for POLLIN on one fd: true when it is readable, false when the
    /// timeout (-1: none) passed first.
    static func waitReadable(_ fd: Int32, timeoutMilliseconds: Int32, operation: String) throws -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let result = poll(&entry, 1, timeoutMilliseconds)
            if result >= 0 { return result > 0 }
            if errno != EINTR { throw KernelError(operation, errno: errno) }
        }
    }

    /// recvmmsg(2) without waiting: up to `lengths.count` datagrams, the i-th into
    /// `buffer[i * slotSize ..< (i + 1) * slotSize]`, its length into `lengths[i]`
    /// (-1 when it did not fit its slot: MSG_TRUNC). Returns how many arrived, 0
    /// when none was waiting. The message headers live on the stack.
    static func receiveMany(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, slotSize: Int,
                            lengths: UnsafeMutableBufferPointer<Int>, operation: String) throws -> Int {
        let slots = min(lengths.count, buffer.count / slotSize)
        guard slots > 0, let base = buffer.baseAddress else { return 0 }
        return try withUnsafeTemporaryAllocation(of: iovec.self, capacity: slots) { vectors in
            try withUnsafeTemporaryAllocation(of: nf_mmsghdr.self, capacity: slots) { headers in
                for slot in 0..<slots {
                    vectors[slot] = iovec(iov_base: base + slot * slotSize, iov_len: slotSize)
                    var header = nf_mmsghdr()
                    header.msg_hdr.msg_iov = vectors.baseAddress! + slot
                    header.msg_hdr.msg_iovlen = 1
                    headers[slot] = header
                }
                while true {
                    let count = nf_recvmmsg(fd, headers.baseAddress, UInt32(slots), Int32(MSG_DONTWAIT))
                    if count >= 0 {
                        for slot in 0..<Int(count) {
                            let cut = headers[slot].msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0
                            lengths[slot] = cut ? -1 : Int(headers[slot].msg_len)
                        }
                        return Int(count)
                    }
                    if errno == EAGAIN || errno == EWOULDBLOCK { return 0 }
                    if errno != EINTR { throw KernelError(operation, errno: errno) }
                }
            }
        }
    }

    /// sendto(2) of one IP packet on a raw socket, addressed to `destination`
    /// (4 bytes: sockaddr_in, 16 bytes: sockaddr_in6, port 0).
    static func sendPacket(_ fd: Int32, _ packet: UnsafeRawBufferPointer, destination: ArraySlice<UInt8>, operation: String) throws {
        var address = sockaddr_in6()  // large enough for either family
        let isIPv6 = destination.count == 16
        withUnsafeMutableBytes(of: &address) { raw in
            raw.storeBytes(of: sa_family_t(isIPv6 ? AF_INET6 : AF_INET), toByteOffset: 0, as: sa_family_t.self)
            let offset = isIPv6 ? 8 : 4  // sin6_addr, sin_addr
            for (index, byte) in destination.enumerated() { raw[offset + index] = byte }
        }
        let length = socklen_t(isIPv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        while true {
            let sent = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, packet.baseAddress, packet.count, 0, $0, length) }
            }
            if sent >= 0 { return }
            if errno != EINTR { throw KernelError(operation, errno: errno) }
        }
    }

    /// bind(2) to 127.0.0.1:`port`, then listen(2) with `backlog`.
    static func listenOnLoopback(_ fd: Int32, port: UInt16, backlog: Int32, operation: String) throws {
        var address = loopbackAddress(port: port)
        _ = try check("\(operation): bind 127.0.0.1:\(port)", withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        })
        _ = try check("\(operation): listen(\(backlog))", listen(fd, backlog))
    }

    /// A blocking connect(2) to 127.0.0.1:`port` that waits at most `timeoutSeconds`
    /// (SO_SNDTIMEO): true when connected, false when the wait ran out (EINPROGRESS).
    static func connectToLoopback(_ fd: Int32, port: UInt16, timeoutSeconds: Double, operation: String) throws -> Bool {
        var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - timeoutSeconds.rounded(.down)) * 1e6))
        _ = try check("\(operation): SO_SNDTIMEO", setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)))
        var address = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result == 0 { return true }
        if errno == EINPROGRESS { return false }
        throw KernelError("\(operation): connect 127.0.0.1:\(port)", errno: errno)
    }

    private static func loopbackAddress(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// getsockopt(2) of an int option.
    static func socketOption(_ fd: Int32, level: Int32, name: Int32, operation: String) throws -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try check(operation, getsockopt(fd, level, name, &value, &length))
        return value
    }
}
