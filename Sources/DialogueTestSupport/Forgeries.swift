import DialogueModel
import Foundation

/// What Mallory forges.
public enum ForgedOperation: String, CaseIterable, Sendable, CustomStringConvertible {
    /// A delete whose observed vector claims Vale's concurrent write.
    case delete
    /// A delete whose observed vector claims Vale's largest counter.
    case deleteClaimingLargestCounter
    /// A register write overwriting Vale's concurrent write.
    case set
    /// A create naming a predecessor that does not exist.
    case create
    /// A set remove observing a tag that does not exist.
    case remove
    /// A list move overwriting a move nobody made.
    case moveItem

    public var description: String { rawValue }
}

/// Hill creates a session with a title, a participant, an agenda item and a summary;
/// Vale, having seen it, retitles it; Mallory has seen only Hill's changes. The receiver
/// holds Hill's and Vale's.
public struct ForgeryScenario: Sendable {
    public static let hill = ReplicaID(rawValue: 0x41)!
    public static let vale = ReplicaID(rawValue: 0x42)!
    public static let mallory = ReplicaID(rawValue: 0x43)!
    public let space: SpaceID
    public let session = EntityID(UUID(uuidString: "5e550000-0000-4000-8000-0000000000f0")!)
    /// The participant Hill adds (a member entity, by reference).
    public let ada = FieldValue.reference(EntityID(UUID(uuidString: "ada00000-0000-4000-8000-0000000000f0")!))
    public var clock: UInt64
    /// Hill's changes, then Vale's (which depend on them).
    public var fromHill: [Change] = []
    public var fromVale: [Change] = []
    /// Mallory's document: Hill's changes only.
    public var mallory: SpaceDocument
    /// A document holding Hill's and Vale's changes.
    public var receiver: SpaceDocument

    public init(space: SpaceID = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000000f0")!), wallTime: UInt64 = 1_000) throws {
        self.space = space
        clock = wallTime
        mallory = SpaceDocument(space: space)
        receiver = SpaceDocument(space: space)
        var hill = SpaceDocument(space: space)
        fromHill.append(hill.create(session, kind: EntityKind.session.rawValue, by: context(Self.hill)))
        fromHill.append(hill.set("title", of: session, to: .string("Plan"), by: context(Self.hill)))
        fromHill.append(hill.add(ada, toSet: "participants", of: session, by: context(Self.hill))!)
        let prompt = FieldValue.reference(PromptLibrary.starter[0].id)
        fromHill.append(try hill.insertItem(prompt, at: 0, inList: "agenda", of: session, by: context(Self.hill)))
        fromHill.append(try hill.insertItem(prompt, at: 1, inList: "agenda", of: session, by: context(Self.hill)))
        fromHill += try hill.editText("summary", of: session, at: 0, insert: "ab", by: context(Self.hill))
        var vale = SpaceDocument(space: space)
        try vale.apply(fromHill)
        fromVale.append(vale.set("title", of: session, to: .string("Vale's plan"), by: context(Self.vale)))
        try mallory.apply(fromHill)
        try receiver.apply(fromHill + fromVale)
    }

    public mutating func context(_ replica: ReplicaID) -> EditContext {
        clock += 1
        return EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: clock))
    }

    /// Mallory's honest change and its forged twin (same id and dependencies), with the dot
    /// the forgery names that Mallory could not have seen.
    public mutating func mallorysChanges(_ forgery: ForgedOperation) throws -> (honest: Change, forged: Change, named: Dot) {
        let valeWrite = fromVale[0].id
        let ctx = context(Self.mallory)
        var honest: Change
        let named: Dot
        var forged: Change
        switch forgery {
        case .delete, .deleteClaimingLargestCounter:
            honest = mallory.delete(session, by: ctx)
            guard case .delete(let observed) = honest.operation else { preconditionFailure("the editor made another operation") }
            named = Dot(Self.vale, forgery == .delete ? valeWrite.counter : UInt64.max)
            forged = honest
            forged.operation = .delete(observed: observed.merged(VersionVector([Self.vale: named.counter])))
        case .set:
            honest = mallory.set("title", of: session, to: .string("Mallory's plan"), by: ctx)
            guard case .set(let value, let predecessors) = honest.operation else {
                preconditionFailure("the editor made another operation")
            }
            named = valeWrite
            forged = honest
            forged.operation = .set(value, predecessors: predecessors + [named])
        case .create:
            honest = mallory.create(session, kind: EntityKind.session.rawValue, by: ctx)
            guard case .create(let kind, let predecessors) = honest.operation else {
                preconditionFailure("the editor made another operation")
            }
            named = Dot(Self.vale, 99)
            forged = honest
            forged.operation = .create(kind: kind, predecessors: predecessors + [named])
        case .remove:
            honest = mallory.remove(ada, fromSet: "participants", of: session, by: ctx)!
            guard case .remove(let value, let observed) = honest.operation else { preconditionFailure("the editor made another operation") }
            named = Dot(Self.hill, 999)
            forged = honest
            forged.operation = .remove(value, observed: observed + [named])
        case .moveItem:
            honest = try mallory.moveItem(from: 0, to: 1, inList: "agenda", of: session, by: ctx)
            guard case .moveItem(let element, let left, let right, let predecessors) = honest.operation else {
                preconditionFailure("the editor made another operation")
            }
            named = Dot(Self.vale, 7)
            forged = honest
            forged.operation = .moveItem(element: element, originLeft: left, originRight: right, predecessors: predecessors + [named])
        }
        return (honest, forged, named)
    }
}
