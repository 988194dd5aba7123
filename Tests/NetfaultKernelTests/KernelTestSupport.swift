import Foundation
import Glibc
import Netfault
import Testing
@testable import NetfaultKernel

/// Helpers shared by the NetfaultKernel tests. Everything is prefixed `KT` so it
/// cannot collide with helpers in other test files of the target.
enum KT {
    /// Kernel tests need root (or CAP_NET_ADMIN + CAP_SYS_ADMIN).
    static var canManageNetworks: Bool { Privileges.canManageNetworks }
    static let needsRoot: Comment = "kernel tests need root or CAP_NET_ADMIN+CAP_SYS_ADMIN"

    // MARK: - Known bytes

    /// Bytes from an `strace -xx` string ("\x02\x18\x00…"), pasted verbatim.
    static func strace(_ text: String) -> [UInt8] {
        let parts = text.split(separator: "\\x", omittingEmptySubsequences: true)
        return parts.map { part in
            guard part.count == 2, let byte = UInt8(part, radix: 16) else {
                fatalError("bad strace byte \(part) in \(text)")
            }
            return byte
        }
    }

    /// Bytes from whitespace-separated hex ("28 00 00 00 14 00").
    static func hex(_ text: String) -> [UInt8] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { word in
            guard let byte = UInt8(word, radix: 16) else { fatalError("bad hex byte \(word)") }
            return byte
        }
    }

    /// Little-endian (host order on x86_64/aarch64) integers.
    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }
    static func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8((value >> (8 * UInt64($0))) & 0xFF) } }
    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    /// An nlmsghdr (len, type, flags, seq, pid) followed by `payload`, padded to 4.
    static func message(type: UInt16, flags: UInt16, sequence: UInt32 = 0, pid: UInt32 = 0, payload: [UInt8]) -> [UInt8] {
        let length = UInt32(16 + payload.count)
        var bytes = le32(length) + le16(type) + le16(flags) + le32(sequence) + le32(pid) + payload
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    /// An nlattr (len, type) followed by `value`, padded to 4.
    static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        var bytes = le16(UInt16(4 + value.count)) + le16(type) + value
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    /// The nlmsghdr of a built message, read independently of the code under test.
    struct Header: Equatable {
        var length: UInt32, type: UInt16, flags: UInt16, sequence: UInt32, pid: UInt32
    }

    static func header(_ bytes: [UInt8]) -> Header {
        Header(length: u32(bytes, 0), type: u16(bytes, 4), flags: u16(bytes, 6),
               sequence: u32(bytes, 8), pid: u32(bytes, 12))
    }

    static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
    }

    /// One attribute as an independent walker sees it: flag bits kept apart.
    struct Attr: Equatable, CustomStringConvertible {
        let type: UInt16
        let nested: Bool
        let value: [UInt8]
        var description: String { "attr(\(type)\(nested ? ", nested" : ""), \(value.count) bytes)" }
    }

    /// Walks a trusted attribute stream (test fixtures only): every attribute, in
    /// order, padding checked to be zero. A separate implementation from
    /// NetlinkDecoder so the encoding tests do not grade the code with itself.
    static func walk(_ bytes: ArraySlice<UInt8>) -> [Attr] {
        var result: [Attr] = []
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
            let rawType = UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8
            precondition(length >= 4 && offset + length <= bytes.endIndex, "fixture attribute overruns")
            result.append(Attr(type: rawType & 0x3FFF, nested: rawType & 0x8000 != 0,
                               value: Array(bytes[(offset + 4)..<(offset + length)])))
            let padded = (length + 3) & ~3
            precondition(bytes[(offset + length)..<min(offset + padded, bytes.endIndex)].allSatisfy { $0 == 0 },
                         "non-zero padding")
            offset += padded
        }
        return result
    }

    static func attr(_ attrs: [Attr], _ type: UInt16) -> Attr? { attrs.first { $0.type == type } }

    // MARK: - Host witnesses

    /// Runs a host tool and returns its standard output (stderr dropped): `tool` is a path, or a
    /// name looked for in /usr/sbin, /sbin and /usr/bin. A tool that cannot start gives a line
    /// saying so, which no check here takes for the tool's answer.
    static func output(of tool: String, _ arguments: [String]) -> String {
        let path = tool.hasPrefix("/") ? tool
            : ["/usr/sbin", "/sbin", "/usr/bin"].map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "/usr/sbin/\(tool)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return "\(tool) \(arguments.joined(separator: " ")) failed: \(error)" }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// `ip ARGS` (iproute2): its standard output.
    static func ip(_ arguments: String...) -> String { output(of: "ip", arguments) }

    /// `tc ARGS` (iproute2's tc, a witness independent of libbpf and of netfault's netlink; `ip`
    /// has no qdisc or filter command): its standard output.
    static func tc(_ arguments: String...) -> String { output(of: "tc", arguments) }

    /// The root namespace as `ip` sees it: veth links and pinned namespaces.
    /// Pins named nf-* belong to netfault runs of other engineers on this machine
    /// (scenario runs pin under /run/netns/nf-…); they are not ours to judge, so
    /// they are left out. Nothing in these tests ever pins a namespace.
    struct RootSnapshot: Equatable {
        let veths: String
        let namespaces: [String]

        static func take() -> RootSnapshot {
            RootSnapshot(veths: KT.ip("-o", "link", "show", "type", "veth"),
                         namespaces: KT.ip("netns", "list").split(separator: "\n").map(String.init)
                             .filter { !$0.hasPrefix("nf-") }.sorted())
        }
    }

    /// Runs a kernel test body and checks the root namespace is left as it was.
    static func leavesNoTrace<R>(_ body: () throws -> R, sourceLocation: Testing.SourceLocation = #_sourceLocation) rethrows -> R {
        // KernelProbesTests compares this process's open namespace and socket fds
        // just before and after one KernelProbes.all() run; a namespace or netlink
        // socket opened by a test here in that window makes it fail. Its lazily
        // computed `run` blocks every caller until that snapshot is done, so no
        // kernel test here opens anything while it is being taken.
        _ = KernelProbesTests.run
        let before = RootSnapshot.take()
        let result = try body()
        let after = RootSnapshot.take()
        #expect(after == before, "the root namespace changed", sourceLocation: sourceLocation)
        #expect(!after.veths.contains("nfkt"), sourceLocation: sourceLocation)
        return result
    }

    /// "net:[4026532…]" for a namespace fd, from /proc/self/fd.
    static func namespaceIdentity(fd: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")
    }

    /// Every net namespace this process holds an fd to.
    static func heldNamespaces() -> Set<String> {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { $0.hasPrefix("net:[") })
    }

    /// Reads a file as seen from inside the namespace.
    static func read(_ path: String, in namespace: NetworkNamespace) throws -> String {
        let fd = try namespace.open(path)
        defer { Sys.close(fd) }
        return try Sys.readAll(fd, operation: "read \(path)")
    }

    /// Interface names of a /proc/net/dev text.
    static func interfaces(ofNetDev text: String) -> [String] {
        text.split(separator: "\n").dropFirst(2).compactMap { line in
            line.split(separator: ":").first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Polls `condition` every 5 ms until it holds or `seconds` pass.
    static func eventually(seconds: Double = 3, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = MonotonicClock.now() + Int64(seconds * 1e9)
        while MonotonicClock.now() < deadline {
            if try condition() { return true }
            MonotonicClock.sleep(nanoseconds: 5_000_000)
        }
        return try condition()
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny fixed-seed generator, so the fuzz tests
/// feed the same buffers on every run and a failure reproduces. The library's own (its
/// first output is pinned to the reference's in SegmentIdentityTests); here it only makes
/// inputs, it grades nothing.
typealias KTSplitMix64 = Netfault.SplitMix64
