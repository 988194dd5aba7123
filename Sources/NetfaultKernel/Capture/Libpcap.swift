import CNetfault

/// The one file that calls libpcap: a capture, an offline reader or a writer's handle.
final class PcapHandle {
    let raw: OpaquePointer

    private init(_ raw: OpaquePointer) { self.raw = raw }

    deinit { pcap_close(raw) }

    /// Equivalent to `ip netns exec NS tcpdump -i any -y LINUX_SLL2 -s SNAP --time-stamp-precision nano`,
    /// up to activation.
    static func live(namespace: NetworkNamespace, snapLength: Int, bufferBytes: Int,
                     timeoutMilliseconds: Int) throws -> PcapHandle {
        var message = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let raw = nf_pcap_open_any_in_netns(namespace.fd, Int32(snapLength), Int32(bufferBytes),
                                                   Int32(timeoutMilliseconds), &message) else {
            throw CaptureError("capture on any in \(namespace.name): \(text(message))")
        }
        let handle = PcapHandle(raw)
        // Asking for receive timestamps turns on the kernel's stamping of every packet where
        // it enters the stack (netif_rx) or leaves (dev_queue_xmit_nit), once; without it each
        // capture socket reads the clock when the packet reaches it, which a busy CPU delays.
        try Sys.setSocketOption(pcap_fileno(raw), level: SOL_SOCKET, name: SO_TIMESTAMPNS, value: 1,
                                operation: "setsockopt(SO_TIMESTAMPNS) on the capture in \(namespace.name)")
        return handle
    }

    /// Equivalent to `tcpdump -r PATH --time-stamp-precision nano`.
    static func offline(path: String) throws -> PcapHandle {
        var message = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let raw = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &message) else {
            throw CaptureError("read \(path): \(text(message))")
        }
        return PcapHandle(raw)
    }

    var linkType: Int32 { pcap_datalink(raw) }
    var snapLength: Int { Int(pcap_snapshot(raw)) }
    var error: String { String(cString: pcap_geterr(raw)) }

    /// Compiles `expression` (tcpdump's filter syntax) into the kernel's socket filter.
    func setFilter(_ expression: String) throws {
        var program = bpf_program()
        guard pcap_compile(raw, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw CaptureError("filter \"\(expression)\": \(error)")
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(raw, &program) == 0 else { throw CaptureError("set filter \"\(expression)\": \(error)") }
    }

    func setNonblocking() throws {
        var message = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard pcap_setnonblock(raw, 1, &message) == 0 else { throw CaptureError("pcap_setnonblock: \(text(message))") }
    }

    /// The descriptor to poll for readiness.
    var selectableDescriptor: Int32 { pcap_get_selectable_fd(raw) }

    /// Appends the frames available now (a buffer's worth, for an offline handle) to the sink.
    /// Returns how many it read.
    @discardableResult
    func dispatch(into sink: FrameSink) throws -> Int {
        let context = Unmanaged.passUnretained(sink).toOpaque().assumingMemoryBound(to: UInt8.self)
        let count = pcap_dispatch(raw, -1, { context, header, bytes in
            guard let context, let header, let bytes else { return }
            let sink = Unmanaged<FrameSink>.fromOpaque(UnsafeRawPointer(context)).takeUnretainedValue()
            let stamp = header.pointee.ts
            // With nanosecond precision libpcap puts nanoseconds in tv_usec.
            sink.frames.append(timestamp: Int64(stamp.tv_sec) * 1_000_000_000 + Int64(stamp.tv_usec),
                               length: Int(header.pointee.len),
                               bytes: UnsafeRawBufferPointer(start: bytes, count: Int(header.pointee.caplen)))
        }, context)
        guard count >= 0 else { throw CaptureError("pcap_dispatch: \(error)") }
        return Int(count)
    }

    /// Frames the kernel dropped because the ring was full (ps_drop), and the interface's own drops.
    func drops() -> Int {
        var stats = pcap_stat()
        guard pcap_stats(raw, &stats) == 0 else { return 0 }
        return Int(stats.ps_drop) + Int(stats.ps_ifdrop)
    }
}

/// libpcap's NUL-terminated error buffer as text.
private func text(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// Holds the frames while pcap_dispatch calls back into Swift.
final class FrameSink {
    var frames: CapturedFrames
    init(_ frames: CapturedFrames) { self.frames = frames }
}

/// A capture that could not be opened, filtered, read or written; libpcap's own words.
public struct CaptureError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
