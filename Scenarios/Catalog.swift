import Foundation
import Netfault

/// The scenario catalog: one scenario per behaviour of SCENARIOS.md.
public enum Catalog {
    /// In catalog order (H, then C, then K).
    public static let all: [Scenario] = [
        handshake, lostSyn, oneSynLost, lostSynAck, synAckGiveUp, lostThirdAck, dataCompletesHandshake, lateDataGetsRst,
        synFlood, acceptQueueOverflow,
        fourWayClose, threeSegmentClose, lostFin, lostAckOfFin, lostPassiveFin, lostFinalAck, timeWaitDuration,
        closeWaitPileUp, finWait1Orphans, timeWaitBuckets, timeWaitReuse, serverTimeWait,
        keepalive, processCrash, lostData, nagle, mss, connectionRefused, halfClose, udpBoundaries,
    ]

    /// Retransmission timeouts of a segment: tcp_rto_min plus the smoothed RTT, which a
    /// loaded machine stretches from microseconds to milliseconds; 25 % late instead of
    /// the timer wheel's 12.5 %. And at least 75 ms late: the timers run in softirq, which
    /// a busy machine hands to ksoftirqd, an ordinary thread that waits its turn (62 ms
    /// seen with 11 debug-built scenarios at once on 2 CPUs). Still well short of the
    /// next doubling (200 → 400 ms), which is what these checks tell apart.
    static let retransmissionTimeouts = Tolerance(lateMinimum: 0.075, lateFraction: 0.25)

    public static func scenario(id: String) -> Scenario? {
        all.first { $0.id.caseInsensitiveCompare(id) == .orderedSame }
    }
}
