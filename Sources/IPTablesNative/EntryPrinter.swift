import CIPTC
import Foundation
import IPTablesBackend
import NetfilterModel

/// Prints an entry of a snapshot the way `iptables-save` prints it: `-A CHAIN -s … -m … -j …`.
///
/// Knows the matches and targets `EntryEncoder` builds, in the revisions it builds them; any
/// other extension prints as `-m NAME --rev N --data HEX` so the text stays stable and readable.
struct EntryPrinter {
  var family: IPTFamily

  func line(chain: String, entry bytes: [UInt8]) -> String {
    let layout = family.calls.layout
    guard bytes.count >= layout.size else { return "-A \(chain) # truncated entry" }
    let targetAt = Int(bytes.load(UInt16.self, at: layout.targetOffset))
    var parts = ["-A", chain]
    let goto: Bool
    switch family {
    case .ipv4:
      let ip = bytes.load(ipt_ip.self, at: 0)
      parts += header(
        addresses: (Bytes.array(ip.src), Bytes.array(ip.smsk), Bytes.array(ip.dst), Bytes.array(ip.dmsk)),
        interfaces: (Bytes.array(ip.iniface), Bytes.array(ip.outiface)), proto: ip.proto, inverse: Int32(ip.invflags))
      goto = Int32(ip.flags) & IPT_F_GOTO != 0
    case .ipv6:
      let ip = bytes.load(ip6t_ip6.self, at: 0)
      parts += header(
        addresses: (Bytes.array(ip.src), Bytes.array(ip.smsk), Bytes.array(ip.dst), Bytes.array(ip.dmsk)),
        interfaces: (Bytes.array(ip.iniface), Bytes.array(ip.outiface)), proto: ip.proto, inverse: Int32(ip.invflags))
      goto = Int32(ip.flags) & IP6T_F_GOTO != 0
    }
    var at = layout.size
    while at + MemoryLayout<xt_entry_match>.size <= targetAt {
      let (name, revision, size) = record(bytes, at)
      guard size >= MemoryLayout<xt_entry_match>.size else { break }
      let payload = Array(bytes[(at + MemoryLayout<xt_entry_match>.size)..<min(at + size, bytes.count)])
      parts.append("-m " + alias(name, revision, payload, target: false))
      parts += match(name, revision, payload) ?? raw(revision, payload)
      at += size
    }
    if targetAt + MemoryLayout<xt_entry_target>.size <= bytes.count {
      let (name, revision, size) = record(bytes, targetAt)
      let payload = Array(bytes[(targetAt + MemoryLayout<xt_entry_target>.size)..<min(targetAt + size, bytes.count)])
      if !name.isEmpty {
        parts.append((goto ? "-g " : "-j ") + alias(name, revision, payload, target: true))
        parts += target(name, revision, payload) ?? []
      }
    }
    return parts.joined(separator: " ")
  }

  /// `-s -d -i -o -p`, each with its `!`.
  func header(
    addresses: ([UInt8], [UInt8], [UInt8], [UInt8]), interfaces: ([UInt8], [UInt8]), proto: UInt16, inverse: Int32
  ) -> [String] {
    var parts: [String] = []
    func not(_ flag: Int32) -> String { inverse & flag != 0 ? "! " : "" }
    // The IPT_INV_* and IP6T_INV_* bits have the same values.
    if addresses.1.contains(where: { $0 != 0 }) || inverse & IPT_INV_SRCIP != 0 {
      parts.append(not(IPT_INV_SRCIP) + "-s " + prefix(addresses.0, addresses.1))
    }
    if addresses.3.contains(where: { $0 != 0 }) || inverse & IPT_INV_DSTIP != 0 {
      parts.append(not(IPT_INV_DSTIP) + "-d " + prefix(addresses.2, addresses.3))
    }
    if interfaces.0.first != 0 { parts.append(not(IPT_INV_VIA_IN) + "-i " + Bytes.string(interfaces.0)) }
    if interfaces.1.first != 0 { parts.append(not(IPT_INV_VIA_OUT) + "-o " + Bytes.string(interfaces.1)) }
    if proto != 0 || inverse & XT_INV_PROTO != 0 {
      parts.append(not(XT_INV_PROTO) + "-p " + ProtocolNames.protocolName(UInt8(truncatingIfNeeded: proto)))
    }
    return parts
  }

  /// `10.0.0.0/8`, `2001:db8::/32`; a non-contiguous mask prints as an address.
  func prefix(_ address: [UInt8], _ mask: [UInt8]) -> String {
    let bits = mask.reduce(0) { $0 + $1.nonzeroBitCount }
    let contiguous = IPTPrefix.mask(length: bits, bytes: mask.count) == mask
    return Bytes.address(address) + "/" + (contiguous ? String(bits) : Bytes.address(mask))
  }

  /// Name, revision and size of the match or target record at `at`.
  func record(_ bytes: [UInt8], _ at: Int) -> (String, UInt8, Int) {
    let size = Int(bytes.load(UInt16.self, at: at))
    let name = Bytes.string(Array(bytes[(at + 2)..<(at + 2 + Int(XT_EXTENSION_MAXNAMELEN))]))
    return (name, bytes[at + 2 + Int(XT_EXTENSION_MAXNAMELEN)], size)
  }

  /// An extension this printer does not know, as its revision and payload bytes.
  func raw(_ revision: UInt8, _ payload: [UInt8]) -> [String] {
    ["--rev \(revision) --data " + payload.map { String(format: "%02x", $0) }.joined()]
  }
}

extension Array where Element == UInt8 {
  /// A C structure read from these bytes at `offset`.
  func load<T>(_ type: T.Type, at offset: Int) -> T {
    withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
  }
}

extension Bytes {
  /// The bytes of a fixed C array (a tuple) or union.
  static func array<T>(_ field: T) -> [UInt8] {
    withUnsafeBytes(of: field) { Array($0) }
  }

  /// A NUL-terminated string in a fixed array.
  static func string(_ bytes: [UInt8]) -> String {
    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
  }

  /// An address in its usual text form (`inet_ntop`).
  static func address(_ bytes: [UInt8]) -> String {
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    let family = bytes.count == 4 ? AF_INET : AF_INET6
    _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// A string as `xtables_save_string` prints it (the compiler's own spelling).
  static func saveString(_ text: String) -> String { IPTablesSyntax.quoted(text) }
}
