import CIPTC

extension EntryPrinter {
  /// The options of a target as its `save` function prints them; `[]` for a verdict or chain,
  /// nil-coalesced to the raw form for an unknown extension.
  func target(_ name: String, _ revision: UInt8, _ payload: [UInt8]) -> [String]? {
    switch (name, revision) {
    case ("ACCEPT", _), ("DROP", _), ("RETURN", _), ("QUEUE", _): return []
    case ("REJECT", 0):
      let with = payload.load(UInt32.self, at: 0)
      let table = family == .ipv4 ? IPTConstants.rejectIPv4Names : IPTConstants.rejectIPv6Names
      return ["--reject-with " + (table[with] ?? String(with))]
    case ("LOG", 0):
      let info = payload.load(ipt_log_info.self, at: 0)
      let prefix = Bytes.string(Bytes.array(info.prefix))
      return (prefix.isEmpty ? [] : ["--log-prefix " + Bytes.saveString(prefix)])
        + (info.level == 4 ? [] : ["--log-level \(info.level)"])
        + IPTConstants.logFlags.filter { info.logflags & $0.1 != 0 }.map(\.0)
    case ("MARK", 2):
      let info = payload.load(xt_mark_tginfo2.self, at: 0)
      return ["--set-xmark " + mark(info.mark, info.mask, always: true)]
    case ("DNAT", 2):
      let info = payload.load(nf_nat_range2.self, at: 0)
      return ["--to-destination " + natRange(info.flags, info.min_addr, info.max_addr, info.min_proto, info.max_proto)]
    case ("SNAT", 0) where family == .ipv4, ("MASQUERADE", 0) where family == .ipv4,
      ("REDIRECT", 0) where family == .ipv4:
      let info = payload.load(nf_nat_ipv4_multi_range_compat.self, at: 0)
      let r = info.range
      var low = nf_inet_addr()
      var high = nf_inet_addr()
      low.ip = r.min_ip
      high.ip = r.max_ip
      return natOptions(name, r.flags, low, high, r.min, r.max)
    case ("SNAT", 1), ("MASQUERADE", 0), ("REDIRECT", 0):
      let info = payload.load(nf_nat_range.self, at: 0)
      return natOptions(name, info.flags, info.min_addr, info.max_addr, info.min_proto, info.max_proto)
    case ("CONNMARK", 2):
      let info = payload.load(xt_connmark_tginfo2.self, at: 0)
      var parts: [String]
      switch Int(info.mode) {
      case XT_CONNMARK_SET: parts = ["--set-xmark " + mark(info.ctmark, info.ctmask, always: true)]
      case XT_CONNMARK_SAVE: parts = ["--save-mark", "--nfmask " + hex(info.nfmask), "--ctmask " + hex(info.ctmask)]
      case XT_CONNMARK_RESTORE:
        parts = ["--restore-mark", "--nfmask " + hex(info.nfmask), "--ctmask " + hex(info.ctmask)]
      default: return nil
      }
      if info.shift_bits != 0 {
        parts.append("--\(Int(info.shift_dir) == D_SHIFT_RIGHT ? "right" : "left")-shift-mark \(info.shift_bits)")
      }
      return parts
    case ("TRACE", 0) where payload.isEmpty:
      return []
    case ("CT", 2):
      return conntrackTemplate(payload.load(xt_ct_target_info_v1.self, at: 0))
    case ("NFLOG", 0):
      let info = payload.load(xt_nflog_info.self, at: 0)
      var parts: [String] = []
      let prefix = Bytes.string(Bytes.array(info.prefix))
      if !prefix.isEmpty { parts.append("--nflog-prefix " + Bytes.saveString(prefix)) }
      if info.group != 0 { parts.append("--nflog-group \(info.group)") }
      if info.flags & UInt16(XT_NFLOG_F_COPY_LEN) != 0 {
        parts.append("--nflog-size \(info.len)")
      } else if info.len != 0 {
        parts.append("--nflog-range \(info.len)")
      }
      if info.threshold != 0 { parts.append("--nflog-threshold \(info.threshold)") }
      return parts
    case ("TCPMSS", 0):
      let mss = payload.load(xt_tcpmss_info.self, at: 0).mss
      return [mss == UInt16(XT_TCPMSS_CLAMP_PMTU) ? "--clamp-mss-to-pmtu" : "--set-mss \(mss)"]
    case ("DSCP", 0):
      return ["--set-dscp " + hex2(payload.load(xt_DSCP_info.self, at: 0).dscp)]
    case ("TOS", 1):
      let info = payload.load(xt_tos_target_info.self, at: 0)
      return ["--set-tos " + hex2(info.tos_value) + "/" + hex2(info.tos_mask)]
    case ("TTL", 0) where family == .ipv4, ("HL", 0) where family == .ipv6:
      // struct ipt_TTL_info / ip6t_HL_info: mode, value.
      let (mode, value) = payload.load((UInt8, UInt8).self, at: 0)
      guard mode <= 2 else { return nil }
      return ["--\(name.lowercased())-\(["set", "inc", "dec"][Int(mode)]) \(value)"]
    case ("CLASSIFY", 0):
      let priority = payload.load(xt_classify_target_info.self, at: 0).priority
      return [String(format: "--set-class %04x:%04x", priority >> 16, priority & 0xFFFF)]
    case ("NFQUEUE", 3):
      let info = payload.load(xt_NFQ_info_v3.self, at: 0)
      var parts =
        info.queues_total > 1
        ? ["--queue-balance \(info.queuenum):\(UInt32(info.queuenum) + UInt32(info.queues_total) - 1)"]
        : ["--queue-num \(info.queuenum)"]
      if info.flags & UInt16(NFQ_FLAG_BYPASS) != 0 { parts.append("--queue-bypass") }
      if info.flags & UInt16(NFQ_FLAG_CPU_FANOUT) != 0 { parts.append("--queue-cpu-fanout") }
      return parts
    default:
      // A user chain (a jump) has no options; an unknown extension shows its bytes.
      return payload.count == 8 && payload.allSatisfy { $0 == 0 } ? [] : raw(revision, payload)
    }
  }

  func natOptions(
    _ name: String, _ flags: UInt32, _ low: nf_inet_addr, _ high: nf_inet_addr, _ min: nf_conntrack_man_proto,
    _ max: nf_conntrack_man_proto
  ) -> [String] {
    guard name == "SNAT" else {
      guard flags & UInt32(NF_NAT_RANGE_PROTO_SPECIFIED) != 0 else { return [] }
      return ["--to-ports " + ports(min, max)]
    }
    return ["--to-source " + natRange(flags, low, high, min, max)]
  }

  /// `ADDR[-ADDR][:PORT[-PORT]]`, IPv6 with ports as `[ADDR]:PORT`.
  func natRange(
    _ flags: UInt32, _ low: nf_inet_addr, _ high: nf_inet_addr, _ min: nf_conntrack_man_proto,
    _ max: nf_conntrack_man_proto
  ) -> String {
    var text = ""
    let withPorts = flags & UInt32(NF_NAT_RANGE_PROTO_SPECIFIED) != 0
    if flags & UInt32(NF_NAT_RANGE_MAP_IPS) != 0 {
      let length = family.addressLength
      let a = Bytes.address(Array(Bytes.array(low).prefix(length)))
      let b = Bytes.address(Array(Bytes.array(high).prefix(length)))
      text = a == b ? a : a + "-" + b
      if family == .ipv6 && withPorts { text = "[\(text)]" }
    }
    if withPorts { text += ":" + ports(min, max) }
    return text
  }

  func ports(_ min: nf_conntrack_man_proto, _ max: nf_conntrack_man_proto) -> String {
    let (a, b) = (UInt16(bigEndian: min.all), UInt16(bigEndian: max.all))
    return a == b ? "\(a)" : "\(a)-\(b)"
  }

  /// `-j CT` options in libxt_CT's order; none for the `NOTRACK` alias.
  func conntrackTemplate(_ info: xt_ct_target_info_v1) -> [String] {
    let flags = Int(info.flags)
    guard flags & XT_CT_NOTRACK_ALIAS == 0 else { return [] }
    var parts: [String] = []
    if flags & XT_CT_NOTRACK != 0 { parts.append("--notrack") }
    let helper = Bytes.string(Bytes.array(info.helper))
    if !helper.isEmpty { parts.append("--helper " + helper) }
    let timeout = Bytes.string(Bytes.array(info.timeout))
    if !timeout.isEmpty { parts.append("--timeout " + timeout) }
    func events(_ option: String, _ names: [(String, UInt32)], _ bits: UInt32) {
      guard bits != 0 else { return }
      parts.append(option + " " + names.filter { bits & (1 << $0.1) != 0 }.map(\.0).joined(separator: ","))
    }
    events("--ctevents", IPTConstants.ctEvents, info.ct_events)
    events("--expevents", IPTConstants.expectationEvents, info.exp_events)
    if flags & XT_CT_ZONE_MARK != 0 || info.zone != 0 {
      let direction = flags & (XT_CT_ZONE_DIR_ORIG | XT_CT_ZONE_DIR_REPL)
      let suffix = direction == XT_CT_ZONE_DIR_ORIG ? "-orig" : direction == XT_CT_ZONE_DIR_REPL ? "-reply" : ""
      parts.append("--zone\(suffix) " + (flags & XT_CT_ZONE_MARK != 0 ? "mark" : "\(info.zone)"))
    }
    return parts
  }
}
