import NetfilterModel

/// An index over one chain's rules for fast first-match search: for a packet, the rules that can
/// possibly match, in order. It only ever over-approximates (every rule it returns is then checked
/// exactly by the rule evaluator), so answers never change.
///
/// The index is a decision tree over five packet fields, each read as one integer key: source and
/// destination address, source and destination port (keyed with the protocol, so `tcp dport 80`
/// and `udp dport 80` differ and a protocol-only rule covers its protocol's whole port range), and
/// the input interface. A split node cuts its field into elementary intervals (the points where
/// some rule's coverage starts or ends); each interval leads to the subtree of the rules covering
/// it, and a second, wildcard subtree holds the rules that do not constrain the field (or cover
/// too many intervals to copy). A packet follows its interval and the wildcard subtree at every
/// split, and collects the leaves it reaches.
///
/// Why a tree and not per-field bitmaps or tuple space search: bitmap intersection costs memory
/// quadratic in the rules (100k rules × 200k intervals), and tuple space search probes one hash
/// per combination of prefix lengths (hundreds with real prefix mixes). The tree costs a handful
/// of binary searches per packet, and rules are copied only into the few intervals they cover.
public final class ChainIndex: Sendable {
  /// The fields a node can split on.
  enum Field: Int, CaseIterable {
    case source, destination, sourcePort, destinationPort, inputInterface
  }

  /// A tree node. A leaf holds `ruleStore[first..<first + count]`; a split node holds the
  /// intervals `starts[first..<first + count]`, each with its child in `children`.
  struct Node: Sendable {
    /// The field split on, or -1 for a leaf.
    var field: Int8
    var first: Int32
    var count: Int32
    /// The subtree of rules that do not constrain the field (-1: none).
    var wildcard: Int32
  }

  let nodes: [Node]
  let starts: [UInt64]
  let children: [Int32]
  let ruleStore: [Int32]
  /// Interface names that rules match exactly, numbered from 1 (0: any other name).
  let interfaceIDs: [String: UInt64]
  let ruleCount: Int

  /// The key of an address field for packets that are not IPv4 (only IPv6-address rules and
  /// rules without an address match can match them).
  static let notIPv4: UInt64 = 1 << 32

  public init(chain: Chain, table: Table) {
    var builder = ChainIndexBuilder(rules: chain.rules, table: table)
    builder.build()
    nodes = builder.nodes
    starts = builder.starts
    children = builder.children
    ruleStore = builder.ruleStore
    interfaceIDs = builder.interfaceIDs
    ruleCount = chain.rules.count
  }

  /// Bytes the index holds, for the benchmark's memory column.
  public var approximateBytes: Int {
    nodes.count * MemoryLayout<Node>.stride + starts.count * 8 + children.count * 4 + ruleStore.count * 4
      + interfaceIDs.count * 32
  }

  /// The rules that may match `packet` at `hook`, ascending; nil when the index cannot narrow
  /// them down (a field it splits on is missing from the packet).
  public func candidates(for packet: Packet, hook: Hook) -> [Int32]? {
    candidateList(for: packet, hook: hook).map { list in (0..<list.count).map { list[$0] } }
  }

  /// The candidates as the rule runner keeps them: a handful inline, no heap.
  func candidateList(for packet: Packet, hook: Hook) -> CandidateList? {
    // Runs once per packet per chain entered: nothing on the heap unless the list is long.
    withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: ChainIndex.maximumLeaves) { leaves in
      guard let count = collect(packet, hook, leaves) else { return nil }
      var list = CandidateList()
      ruleStore.withUnsafeBufferPointer { store in
        // The leaves are ascending runs: insert each rule in order (few, short runs).
        for leaf in leaves[..<count] {
          for i in leaf { list.insertSorted(store[i]) }
        }
      }
      return list
    }
  }

  /// Leaves one packet may reach, and splits pending on the walk; a deeper tree falls back to
  /// checking every rule (never seen: each split level uses up a field).
  static let maximumLeaves = 64

  /// The packet's key for `field`, nil where the packet lacks it.
  func key(_ field: Int8, _ packet: Packet, _ hook: Hook) -> UInt64? {
    func address(_ a: IPAddress?) -> UInt64? {
      guard packet.kind == .ipv4 else { return ChainIndex.notIPv4 }
      guard case .v4(let v)? = a else { return nil }
      return UInt64(v)
    }
    func port(_ p: UInt16?) -> UInt64? {
      guard let proto = packet.l4proto else { return nil }
      // Rules key ports of tcp and udp only (`TransportProtocol`); others by protocol alone.
      guard proto == 6 || proto == 17 else { return UInt64(proto) << 16 }
      return p.map { UInt64(proto) << 16 | UInt64($0) }
    }
    switch field {
    case 0: return address(packet.source)
    case 1: return address(packet.destination)
    case 2: return port(packet.sourcePort)
    case 3: return port(packet.destinationPort)
    default:
      // The evaluator sees no input interface at output (locally generated packets).
      if hook == .output { return interfaceIDs[""] ?? 0 }
      return packet.inputInterface.map { interfaceIDs[$0] ?? 0 }
    }
  }

  /// Writes the leaves `packet` reaches (as ranges of `ruleStore`) and returns how many; nil
  /// when a split needs a key the packet lacks. A rule sits in one subtree per split, so no rule
  /// is collected twice.
  func collect(_ packet: Packet, _ hook: Hook, _ leaves: UnsafeMutableBufferPointer<Range<Int>>) -> Int? {
    var keys: (UInt64?, UInt64?, UInt64?, UInt64?) = (nil, nil, nil, nil)
    var known: UInt8 = 0
    var count = 0
    return withUnsafeTemporaryAllocation(of: Int32.self, capacity: ChainIndex.maximumLeaves) { pending in
      var top = 1
      pending[0] = 0
      return nodes.withUnsafeBufferPointer { nodes in
        starts.withUnsafeBufferPointer { starts in
          children.withUnsafeBufferPointer { children -> Int? in
            while top > 0 {
              top -= 1
              let n = nodes[Int(pending[top])]
              if n.field < 0 {
                if n.count > 0 {
                  guard count < leaves.count else { return nil }
                  leaves[count] = Int(n.first)..<Int(n.first + n.count)
                  count += 1
                }
                continue
              }
              let key: UInt64?
              if n.field < 4 {
                let bit = UInt8(1) << UInt8(n.field)
                if known & bit == 0 {
                  let k = self.key(n.field, packet, hook)
                  switch n.field {
                  case 0: keys.0 = k
                  case 1: keys.1 = k
                  case 2: keys.2 = k
                  default: keys.3 = k
                  }
                  known |= bit
                }
                switch n.field {
                case 0: key = keys.0
                case 1: key = keys.1
                case 2: key = keys.2
                default: key = keys.3
                }
              } else {
                key = self.key(n.field, packet, hook)
              }
              guard let key, top + 2 <= pending.count else { return nil }
              // The last interval whose start is ≤ key (the first start is 0, so there is one).
              var lo = Int(n.first)
              var hi = Int(n.first + n.count) - 1
              while lo < hi {
                let mid = (lo + hi + 1) >> 1
                if starts[mid] <= key { lo = mid } else { hi = mid - 1 }
              }
              if n.wildcard >= 0 {
                pending[top] = n.wildcard
                top += 1
              }
              if children[lo] >= 0 {
                pending[top] = children[lo]
                top += 1
              }
            }
            return count
          }
        }
      }
    }
  }
}

/// A short ascending list of rule positions: up to 16 inline (the usual case), more on the heap.
struct CandidateList {
  private(set) var count = 0
  private var inline = SIMD16<Int32>()
  private var overflow: [Int32] = []

  subscript(_ i: Int) -> Int32 { count <= 16 ? inline[i] : overflow[i] }

  /// Inserts `v` keeping the order (insertion sort step).
  mutating func insertSorted(_ v: Int32) {
    if count == 16 { overflow = (0..<16).map { inline[$0] } }
    if count < 16 {
      var j = count
      while j > 0 && inline[j - 1] > v {
        inline[j] = inline[j - 1]
        j -= 1
      }
      inline[j] = v
    } else {
      var j = count
      overflow.append(v)
      while j > 0 && overflow[j - 1] > v {
        overflow[j] = overflow[j - 1]
        j -= 1
      }
      overflow[j] = v
    }
    count += 1
  }
}
