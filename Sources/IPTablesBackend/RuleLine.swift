import NetfilterModel

/// One piece of an iptables rule that a policy match turns into.
enum RulePiece: Hashable, Sendable {
  /// `-s`/`-d` when the slot is free and the element is a prefix, else an `iprange` match.
  case address(Direction, AddressElement, negated: Bool)
  /// `-i NAME` (already in iptables spelling, `veth+`).
  case inInterface(String, negated: Bool)
  /// `-o NAME`.
  case outInterface(String, negated: Bool)
  /// `-p PROTO`.
  case proto(UInt8, negated: Bool)
  /// A match module with its options: `-m conntrack --ctstate NEW`.
  case module(String)
  /// An option of the `tcp`/`udp` match (`--sport`, `--dport`, `--tcp-flags`, in that `rank`);
  /// options of one protocol share one `-m tcp`, as iptables-nft-save lists them.
  /// `fallback` is the module used when the rule already tests that field (iptables-nft-save
  /// would merge two `-m tcp --sport` into one and list only the last).
  case transport(TransportProtocol, rank: Int, option: String?, fallback: String?)
}

/// One iptables rule as `iptables-save` prints it: the fixed fields in their fixed order
/// (`-s -d -i -o -p`), then match modules in the order given, then the comment and the target.
struct RuleLine: Hashable, Sendable {
  var source: String?
  var destination: String?
  var inInterface: String?
  var outInterface: String?
  var proto: String?
  /// The protocol `-p` selects, when it selects one (not negated).
  var protocolNumber: UInt8?
  var modules: [Module] = []

  /// A match module of the rule.
  enum Module: Hashable, Sendable {
    case text(String)
    /// `-m tcp` with its options by rank.
    case transport(TransportProtocol, [Int: String])

    var text: String {
      switch self {
      case .text(let t): return t
      case .transport(let proto, let options):
        return (["-m \(proto.rawValue)"] + options.keys.sorted().map { options[$0]! }).joined(separator: " ")
      }
    }
  }

  /// Adds a piece in the field where `iptables-save` prints it.
  mutating func add(_ piece: RulePiece) {
    switch piece {
    case .address(let direction, let element, let negated):
      let not = negated ? "! " : ""
      let flag = direction == .source ? "-s" : "-d"
      if case .prefix(let p) = element {
        if direction == .source && source == nil {
          source = not + flag + " " + IPTablesSyntax.prefix(p)
          return
        }
        if direction == .destination && destination == nil {
          destination = not + flag + " " + IPTablesSyntax.prefix(p)
          return
        }
      }
      // A second address test on the same field: iptables has one -s per rule, iprange has more.
      let (first, last) = element.bounds
      let option = direction == .source ? "--src-range" : "--dst-range"
      modules.append(.text("-m iprange \(not)\(option) \(first)-\(last)"))
    case .inInterface(let name, let negated):
      inInterface = (negated ? "! " : "") + "-i " + name
    case .outInterface(let name, let negated):
      outInterface = (negated ? "! " : "") + "-o " + name
    case .proto(let number, let negated):
      proto = (negated ? "! " : "") + "-p " + IPTablesSyntax.protocolName(number)
      protocolNumber = negated ? nil : number
    case .module(let text):
      modules.append(.text(text))
    case .transport(let proto, let rank, let option, let fallback):
      guard
        let index = modules.firstIndex(where: {
          if case .transport(proto, _) = $0 { return true } else { return false }
        }),
        case .transport(_, var options) = modules[index]
      else {
        modules.append(.transport(proto, option.map { [rank: $0] } ?? [:]))
        return
      }
      guard let option else { return }
      if options[rank] == nil {
        options[rank] = option
        modules[index] = .transport(proto, options)
      } else {
        modules.append(.text(fallback ?? "-m \(proto.rawValue) \(option)"))
      }
    }
  }

  /// `-A CHAIN … -m comment --comment "…" -j TARGET`; no comment or target when nil.
  func render(chain: String, comment: String?, target: String?) -> String {
    var parts = ["-A", chain]
    parts += [source, destination, inInterface, outInterface, proto].compactMap { $0 }
    parts += modules.map(\.text)
    if let comment { parts.append("-m comment --comment " + IPTablesSyntax.quoted(comment)) }
    if let target { parts.append(target) }
    return parts.joined(separator: " ")
  }
}
