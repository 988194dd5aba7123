import NetfaultPeer

/// `netfault peer WORDS…`: the built-in peer run by hand, e.g. under `ip netns exec`.
public enum PeerProgram {
    /// Parses and runs the script; returns 2 for a bad script (the message goes to stderr).
    public static func main(_ words: [String]) -> Int32 {
        withCStrings(words) { argv in
            argv.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: words.count + 1) {
                nf_peer_main(Int32(words.count), $0)
            }
        }
    }
}
