import Foundation
import Testing
@testable import NetfaultKernel

/// The pcap writer and reader (libpcap's) against known bytes; no root needed.
@Suite struct PcapFileTests {
    /// A TCP SYN in LINUX_SLL2, 60 bytes (SLL2 20 + IPv4 20 + TCP 20).
    let frame: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6] + [UInt8](repeating: 0xEE, count: 8)
        + [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 77, 1, 1, 10, 77, 1, 2]
        + [0x9C, 0x40, 0x1F, 0x90, 0, 0, 0x03, 0xE8, 0, 0, 0, 0, 0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0]

    func frames() -> CapturedFrames {
        var frames = CapturedFrames(linkType: 276, snapLength: 128)
        frame.withUnsafeBytes { frames.append(timestamp: 1_700_000_000_123_456_789, length: 60, bytes: $0) }
        // A frame cut at 40 bytes whose wire length was 1500.
        frame.prefix(40).withUnsafeBytes { frames.append(timestamp: 1_700_000_001_000_000_001, length: 1500, bytes: $0) }
        return frames
    }

    func temporaryPath() -> String { NSTemporaryDirectory() + "netfault-pcap-\(UUID().uuidString).pcap" }

    @Test func writesTheNanosecondFormatByteForByte() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PcapFile.write(frames(), to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Global header: nanosecond magic 0xa1b23c4d, version 2.4, zone 0, sigfigs 0, snaplen 128, LINUX_SLL2 (276); little-endian host.
        #expect(Array(bytes[0..<24]) == [0x4D, 0x3C, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128, 0, 0, 0, 0x14, 0x01, 0, 0])
        // Record header: seconds 1700000000, nanoseconds 123456789, captured 60, length 60.
        #expect(Array(bytes[24..<40]) == [0x00, 0xF1, 0x53, 0x65, 0x15, 0xCD, 0x5B, 0x07, 60, 0, 0, 0, 60, 0, 0, 0])
        #expect(Array(bytes[40..<100]) == frame)
        #expect(Array(bytes[108..<116]) == [40, 0, 0, 0, 0xDC, 0x05, 0, 0], "captured 40 of 1500")
        #expect(bytes.count == 24 + 16 + 60 + 16 + 40)
    }

    @Test func readsBackWhatItWrote() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PcapFile.write(frames(), to: path)
        #expect(try PcapFile.read(path) == frames())
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump"),
                   "tcpdump is not installed (scripts/bootstrap.sh installs it)"))
    func tcpdumpReadsTheFile() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PcapFile.write(frames(), to: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tcpdump")
        process.arguments = ["-nn", "-r", path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("Out IP 10.77.1.1.40000 > 10.77.1.2.8080: Flags [S], seq 1000, win 65535, length 0"))
    }

    @Test func errorsAreValuesWithLibpcapsWords() {
        #expect(throws: CaptureError.self) { try PcapFile.read("/nonexistent/netfault.pcap") }
        #expect(throws: CaptureError.self) { try PcapFile.write(frames(), to: "/nonexistent/dir/x.pcap") }
        let notPcap = temporaryPath()
        _ = FileManager.default.createFile(atPath: notPcap, contents: Data("not a capture".utf8))
        defer { try? FileManager.default.removeItem(atPath: notPcap) }
        #expect(throws: CaptureError.self) { try PcapFile.read(notPcap) }
    }
}
