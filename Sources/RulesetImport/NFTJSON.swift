import Foundation
import NetfilterModel

/// The values of nft's JSON schema: numbers, names, `{"prefix": …}`, `{"range": […]}`,
/// `{"set": […]}` and `"@name"`, read into model elements.
enum NFTJSON {
  /// The value as compact JSON with sorted keys, the text of an opaque match or target.
  static func compact(_ value: Any) -> String {
    if value is NSNull { return "null" }
    if let s = value as? String { return compactFragment(s) }
    guard JSONSerialization.isValidJSONObject(value),
      let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return compactFragment(value) }
    return String(decoding: data, as: UTF8.self)
  }

  static func compactFragment(_ value: Any) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: [value], options: [.withoutEscapingSlashes]) else {
      return "\(value)"
    }
    return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
  }

  /// An integer (JSON numbers arrive as NSNumber; on Linux `0 is Bool` holds, so no Bool test).
  static func integer(_ value: Any?) -> Int? {
    guard let value, !(value is String) else { return nil }
    if let n = value as? Int { return n }
    if let n = value as? NSNumber { return n.intValue }
    return nil
  }

  /// The operand shape of a right-hand side: one value, `{"set": […]}` (or a bare array) or `"@name"`.
  static func operand<T>(_ value: Any, _ element: (Any) -> T?) -> Operand<T>? {
    if let s = value as? String, s.hasPrefix("@") { return .named(String(s.dropFirst())) }
    if let list = (value as? [String: Any])?["set"] as? [Any] ?? value as? [Any] {
      var elements: [T] = []
      for raw in list {
        guard let e = element(raw) else { return nil }
        elements.append(e)
      }
      return .set(elements)
    }
    return element(value).map { .single($0) }
  }

  /// `"10.0.0.1"`, `{"prefix": {"addr": "10.0.0.0", "len": 8}}`, `{"range": ["a", "b"]}`.
  static func address(_ value: Any) -> AddressElement? {
    if let s = value as? String, let a = IPAddress(s) { return .prefix(IPPrefix(a)) }
    guard let object = value as? [String: Any] else { return nil }
    if let prefix = object["prefix"] as? [String: Any], let text = prefix["addr"] as? String,
      let a = IPAddress(text), let length = integer(prefix["len"]), (0...a.bitWidth).contains(length)
    {
      return .prefix(IPPrefix(address: a, length: length))
    }
    if let range = object["range"] as? [Any], range.count == 2, let lo = range[0] as? String,
      let hi = range[1] as? String, let a = IPAddress(lo), let b = IPAddress(hi), a.version == b.version
    {
      return .range(a, b)
    }
    return nil
  }

  /// `22` (or `"22"`) or `{"range": [1024, 65535]}`.
  static func port(_ value: Any) -> PortRange? {
    if let range = (value as? [String: Any])?["range"] as? [Any], range.count == 2,
      let lo = portNumber(range[0]), let hi = portNumber(range[1])
    {
      return PortRange(lo, hi)
    }
    return portNumber(value).map { PortRange($0) }
  }

  static func portNumber(_ value: Any) -> UInt16? {
    if let n = integer(value) { return UInt16(exactly: n) }
    return (value as? String).flatMap { UInt16($0) }
  }

  /// `"tcp"` or `6`.
  static func proto(_ value: Any) -> UInt8? {
    if let n = integer(value) { return UInt8(exactly: n) }
    guard let s = value as? String else { return nil }
    if s == "ipv6-icmp" { return 58 }
    return ProtocolNames.protocolNumber(s)
  }

  /// A name from `table` (`"echo-request"`) or a number.
  static func named(_ value: Any, in table: [(String, UInt8)]) -> UInt8? {
    if let n = integer(value) { return UInt8(exactly: n) }
    return (value as? String).flatMap { ProtocolNames.number($0, in: table) }
  }

  /// `"eth0"` or `"veth*"` (nft's wildcard; `\*` is a literal star).
  static func interface(_ value: Any) -> InterfacePattern? {
    guard let s = value as? String, !s.hasPrefix("@"), !s.hasSuffix("\\*") else { return nil }
    return InterfacePattern(parsing: s)
  }

  static func mac(_ value: Any) -> MACAddress? { (value as? String).flatMap { MACAddress($0) } }

  /// An element of a named set of this type; `{"elem": {"val": …}}` wraps one with options.
  static func setElement(_ raw: Any, type: SetType) -> SetElement? {
    if let wrapped = (raw as? [String: Any])?["elem"] as? [String: Any], let value = wrapped["val"] {
      return setElement(value, type: type)
    }
    switch type {
    case .ipv4Address, .ipv6Address:
      guard let a = address(raw), a.version == (type == .ipv4Address ? .v4 : .v6) else { return nil }
      return .address(a)
    case .inetService: return port(raw).map { .port($0) }
    case .inetProto: return proto(raw).map { .proto($0) }
    case .interfaceName: return interface(raw).map { .interface($0) }
    case .etherAddress: return mac(raw).map { .ether($0) }
    }
  }
}
