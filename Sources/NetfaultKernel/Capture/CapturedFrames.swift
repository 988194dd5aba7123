/// Frames as a capture recorded them: kernel timestamps, each frame's length on
/// the wire and its first `snapLength` bytes, kept in one buffer (a bulk run
/// records hundreds of thousands of frames; one allocation each would show).
public struct CapturedFrames: Sendable, Equatable {
    public struct Record: Sendable, Equatable {
        /// CLOCK_REALTIME nanoseconds, as the kernel stamped the frame.
        public let timestamp: Int64
        /// The frame's length on the wire; the bytes kept may be fewer.
        public let length: Int
        let offset: Int
        public let capturedLength: Int
    }

    /// A DLT_ value: 276 LINUX_SLL2 for netfault's own captures.
    public let linkType: Int32
    public let snapLength: Int
    public private(set) var records: [Record] = []
    private var storage: [UInt8] = []

    public init(linkType: Int32, snapLength: Int) {
        self.linkType = linkType
        self.snapLength = snapLength
    }

    public var count: Int { records.count }

    public mutating func append(timestamp: Int64, length: Int, bytes: UnsafeRawBufferPointer) {
        records.append(Record(timestamp: timestamp, length: length, offset: storage.count, capturedLength: bytes.count))
        storage.append(contentsOf: bytes)
    }

    /// The bytes kept of frame `index`.
    public func bytes(_ index: Int) -> ArraySlice<UInt8> {
        let record = records[index]
        return storage[record.offset..<record.offset + record.capturedLength]
    }
}
