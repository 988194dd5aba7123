import Foundation
import Testing
@testable import NetfaultKernel

/// The pcapng writer against known bytes, read back by libpcap and tcpdump (and tshark,
/// for the comments, where installed); no root needed.
@Suite struct PcapngFileTests {
    /// A TCP SYN in LINUX_SLL2, 60 bytes (SLL2 20 + IPv4 20 + TCP 20).
    let frame: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6] + [UInt8](repeating: 0xEE, count: 8)
        + [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 77, 1, 1, 10, 77, 1, 2]
        + [0x9C, 0x40, 0x1F, 0x90, 0, 0, 0x03, 0xE8, 0, 0, 0, 0, 0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0]

    func packets() -> [PcapngEncoder.Packet] {
        [PcapngEncoder.Packet(timestamp: 1_700_000_000_123_456_789, originalLength: 60, bytes: frame, comment: "dropped by lost SYN"),
         // A frame cut at 40 bytes whose wire length was 1500, without a comment.
         PcapngEncoder.Packet(timestamp: 1_700_000_001_000_000_001, originalLength: 1500, bytes: Array(frame.prefix(40)))]
    }

    func temporaryPath() -> String { NSTemporaryDirectory() + "netfault-pcapng-\(UUID().uuidString).pcapng" }

    func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

    func joined(_ parts: [UInt8]...) -> [UInt8] { parts.flatMap { $0 } }

    @Test func encodesTheBlocksByteForByte() {
        var encoder = PcapngEncoder(linkType: 276, snapLength: 128)
        for packet in packets() { encoder.append(packet) }
        let bytes = encoder.take()
        // Section Header Block: type, length 44, byte-order magic, version 1.0, section length -1,
        // shb_userappl (4) "netfault" (8 bytes, no padding), end of options, length again.
        let section = joined(le32(0x0A0D_0D0A), le32(44), le32(0x1A2B_3C4D), [1, 0, 0, 0], [UInt8](repeating: 0xFF, count: 8),
                             [4, 0, 8, 0], Array("netfault".utf8), [0, 0, 0, 0], le32(44))
        #expect(Array(bytes[0..<44]) == section)
        // Interface Description Block: LINUX_SLL2 (276), snaplen 128, if_tsresol (9) = 9 (ns), padded.
        let interface = joined(le32(1), le32(32), [0x14, 0x01, 0, 0], le32(128), [9, 0, 1, 0, 9, 0, 0, 0], [0, 0, 0, 0], le32(32))
        #expect(Array(bytes[44..<76]) == interface)
        // Enhanced Packet Block: interface 0, timestamp in ns split high/low, captured 60, original 60,
        // the frame, opt_comment (1) of 19 bytes padded to 20, end of options.
        let timestamp = UInt64(1_700_000_000_123_456_789)
        let comment = Array("dropped by lost SYN".utf8)
        let epbLength: UInt32 = 120  // 12 + 20 fixed, 60 frame, 4 + 20 comment, 4 end of options
        let first = joined(le32(6), le32(epbLength), le32(0), le32(UInt32(timestamp >> 32)), le32(UInt32(timestamp & 0xFFFF_FFFF)),
                           le32(60), le32(60), frame, [1, 0, 19, 0], comment, [0], [0, 0, 0, 0], le32(epbLength))
        #expect(Array(bytes[76..<196]) == first)
        // The second: captured 40 of 1500, no options at all.
        let second = Array(bytes[196...])
        #expect(second.count == 12 + 20 + 40)
        #expect(Array(second[0..<8]) == joined(le32(6), le32(72)))
        #expect(Array(second[20..<28]) == joined(le32(40), le32(1500)), "captured 40 of 1500")
        #expect(Array(second[68..<72]) == le32(72))
        #expect(encoder.bytes.isEmpty, "take() hands everything over")
    }

    @Test func libpcapReadsBackTheFramesAndInstants() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PcapngFile.write(linkType: 276, snapLength: 128, packets: packets(), to: path)
        let frames = try PcapFile.read(path)
        #expect(frames.linkType == 276)
        #expect(frames.records.map(\.timestamp) == [1_700_000_000_123_456_789, 1_700_000_001_000_000_001])
        #expect(frames.records.map(\.length) == [60, 1500])
        #expect(Array(frames.bytes(0)) == frame)
        #expect(Array(frames.bytes(1)) == Array(frame.prefix(40)))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump"),
                   "tcpdump is not installed (scripts/bootstrap.sh installs it)"))
    func tcpdumpReadsTheFile() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PcapngFile.write(linkType: 276, snapLength: 128, packets: packets(), to: path)
        let text = KT.output(of: "/usr/bin/tcpdump", ["-nn", "-r", path])
        #expect(text.contains("Out IP 10.77.1.1.40000 > 10.77.1.2.8080: Flags [S], seq 1000, win 65535, length 0"), "\(text)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark"),
                   "tshark is not installed (scripts/bootstrap.sh installs it)"))
    func tsharkShowsTheComment() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PcapngFile.write(linkType: 276, snapLength: 128, packets: packets(), to: path)
        let text = KT.output(of: "/usr/bin/tshark", ["-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.comment"])
        #expect(text == "1700000000.123456789\tdropped by lost SYN\n1700000001.000000001\t\n", "\(text)")
    }

    @Test func errorsNameThePathAndErrno() {
        #expect(throws: CaptureError.self) { try PcapFile.read("/nonexistent/netfault.pcapng") }
        #expect(throws: KernelError("/nonexistent/dir/x.pcapng", errno: ENOENT)) {
            try PcapngFile.write(linkType: 276, snapLength: 128, packets: packets(), to: "/nonexistent/dir/x.pcapng")
        }
        let notPcap = temporaryPath()
        _ = FileManager.default.createFile(atPath: notPcap, contents: Data("not a capture".utf8))
        defer { try? FileManager.default.removeItem(atPath: notPcap) }
        #expect(throws: CaptureError.self) { try PcapFile.read(notPcap) }
    }
}
