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

    static func netnsCreate() throws -> Int32 {
        try checkNegative("unshare(CLONE_NEWNET)", nf_netns_create())
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

    static func monotonicNanoseconds() -> Int64 { nf_monotonic_ns() }

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

    static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }

    static func unlink(_ path: String) { _ = Glibc.unlink(path) }

    static func processID() -> pid_t { getpid() }

    /// kill(pid, 0): false only when no such process exists.
    static func processExists(_ pid: pid_t) -> Bool { Glibc.kill(pid, 0) == 0 || errno != ESRCH }

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
