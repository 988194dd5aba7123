/// pcap files: what `--pcap DIR` writes, and what tcpdump wrote, read back.
public enum PcapFile {
    /// Writes `frames` as a nanosecond pcap file that tcpdump and Wireshark open.
    public static func write(_ frames: CapturedFrames, to path: String) throws {
        try PcapHandle.dead(linkType: frames.linkType, snapLength: frames.snapLength).write(frames, to: path)
    }

    /// Reads a pcap file (microsecond or nanosecond) with nanosecond timestamps.
    public static func read(_ path: String) throws -> CapturedFrames {
        let handle = try PcapHandle.offline(path: path)
        let sink = FrameSink(CapturedFrames(linkType: handle.linkType, snapLength: handle.snapLength))
        while try handle.dispatch(into: sink) > 0 {}
        return sink.frames
    }
}
