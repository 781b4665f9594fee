import NetfilterModel
import VerdictEngine

/// A packet the planner evaluates under the old and the new ruleset, with the words that name it.
struct PlanProbe: Hashable, Sendable {
  var request: Simulator.Request
  var hook: Hook

  /// Stand-ins for "somewhere outside" and "this host or behind it" when a rule does not say.
  enum Generic {
    static func outside(_ v: IPVersion) -> IPAddress { v == .v4 ? .v4(0xC633_6401) : .v6(0x2001_0db8_0000_0000, 1) }
    static func local(_ v: IPVersion) -> IPAddress { v == .v4 ? .v4(0x0A00_0001) : .v6(0xfd00_0000_0000_0000, 1) }
    static func behind(_ v: IPVersion) -> IPAddress { v == .v4 ? .v4(0x0A00_0002) : .v6(0xfd00_0000_0000_0000, 2) }
    static let inputInterface = "eth0"
    static let outputInterface = "eth1"
    static let sourcePort: UInt16 = 40000
    static let mac = MACAddress("02:00:00:00:00:01")!

    /// A packet on `hook` with every field a rule may test filled in, so only the rules decide.
    static func packet(_ v: IPVersion, _ hook: Hook, proto: UInt8, port: UInt16?, state: CTState) -> Packet {
      let icmp: UInt8? = proto == 1 ? 8 : (proto == 58 ? 128 : nil)
      let ported = proto == 6 || proto == 17
      return Packet(
        source: hook == .output ? local(v) : outside(v),
        destination: hook == .output ? outside(v) : (hook == .forward ? behind(v) : local(v)),
        l4proto: proto, sourcePort: ported ? sourcePort : nil, destinationPort: ported ? port : nil, icmpType: icmp,
        icmpCode: icmp == nil ? nil : 0, tcpFlags: proto == 6 ? defaultFlags(state) : nil,
        inputInterface: hook == .output ? nil : inputInterface,
        outputInterface: hook == .input ? nil : (hook == .output ? inputInterface : outputInterface),
        ctState: state, etherSource: hook == .output ? nil : mac)
    }

    static func defaultFlags(_ state: CTState) -> TCPFlags { state == .new ? .syn : .ack }
  }

  /// `tcp/22 from 198.51.100.1 to 10.0.0.1 (input)`, with what differs from the generic packet:
  /// `(input, established, iif "lo")`.
  var description: String {
    let p = request.packet
    var what = p.l4proto.map(ProtocolNames.protocolName) ?? "ip"
    if let port = p.destinationPort {
      what += "/\(port)"
    } else if let type = p.icmpType, let v = p.version {
      what += "/" + ProtocolNames.name(type, in: ProtocolNames.icmpTypeTable(v))
    }
    var notes = [hook.rawValue]
    if p.ctState != .new { notes.append(p.ctState.rawValue) }
    if let sport = p.sourcePort, sport != Generic.sourcePort { notes.append("sport \(sport)") }
    if p.l4proto == 6, let flags = p.tcpFlags, flags != Generic.defaultFlags(p.ctState) {
      notes.append("flags \(flags)")
    }
    if let code = p.icmpCode, code != 0 { notes.append("code \(code)") }
    let defaultIn = hook == .output ? nil : Generic.inputInterface
    let defaultOut = hook == .input ? nil : (hook == .output ? Generic.inputInterface : Generic.outputInterface)
    if p.inputInterface != defaultIn, let name = p.inputInterface { notes.append("iif \(NFTSyntax.quote(name))") }
    if p.outputInterface != defaultOut, let name = p.outputInterface { notes.append("oif \(NFTSyntax.quote(name))") }
    if p.mark != 0 { notes.append("mark \(NFTSyntax.hex(p.mark))") }
    if let mac = p.etherSource, mac != Generic.mac { notes.append("ether \(mac)") }
    let source = p.source?.description ?? "?"
    return "\(what) from \(source) to \(p.destination) (\(notes.joined(separator: ", ")))"
  }

  /// Orders probes by hook, IP version, protocol, port, then text.
  static func precedes(_ a: PlanProbe, _ b: PlanProbe) -> Bool {
    let pa = a.request.packet
    let pb = b.request.packet
    let ka = (a.hook.ordinal, pa.kind == .ipv4 ? 0 : 1, Int(pa.l4proto ?? 0), Int(pa.destinationPort ?? 0))
    let kb = (b.hook.ordinal, pb.kind == .ipv4 ? 0 : 1, Int(pb.l4proto ?? 0), Int(pb.destinationPort ?? 0))
    if ka != kb { return ka < kb }
    return a.description < b.description
  }
}
