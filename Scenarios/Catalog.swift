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
    /// the timer wheel's 12.5 %.
    static let retransmissionTimeouts = Tolerance(lateFraction: 0.25)

    public static func scenario(id: String) -> Scenario? {
        all.first { $0.id.caseInsensitiveCompare(id) == .orderedSame }
    }
}
