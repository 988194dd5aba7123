/// Capture files read back with libpcap: what tcpdump wrote, and the pcapng files of `--pcap DIR`.
public enum PcapFile {
    /// Reads a pcap (microsecond or nanosecond) or pcapng file with nanosecond timestamps.
    public static func read(_ path: String) throws -> CapturedFrames {
        let handle = try PcapHandle.offline(path: path)
        let sink = FrameSink(CapturedFrames(linkType: handle.linkType, snapLength: handle.snapLength))
        while try handle.dispatch(into: sink) > 0 {}
        return sink.frames
    }
}
