import CIPTC

/// Builds the x_tables entry of a rule: `struct ipt_entry`/`ip6t_entry`, its matches, its target.
///
/// Equivalent to what `iptables`/`ip6tables` (legacy, 1.8.9) hands to `iptc_append_entry`, with
/// the same match and target revisions, so `iptables-legacy-save` lists both alike. The rule is
/// valid here (the parser checked it); the kernel has the last word at commit.
struct EntryEncoder {
  var family: IPTFamily

  func entry(_ rule: IPTRule) -> [UInt8] {
    var writer = EntryWriter(capacity: 512)
    let goto = rule.target.isGoto
    switch family {
    case .ipv4: writer.append(ipt_entry.self) { fillIPv4(&$0.ip, rule.header, goto: goto) }
    case .ipv6: writer.append(ip6t_entry.self) { fillIPv6(&$0.ipv6, rule.header, goto: goto) }
    }
    for match in rule.matches { self.match(match, into: &writer) }
    let targetOffset = UInt16(writer.bytes.count)
    target(rule.target, into: &writer)
    let nextOffset = UInt16(writer.bytes.count)
    switch family {
    case .ipv4:
      writer.update(ipt_entry.self, at: 0) {
        $0.target_offset = targetOffset
        $0.next_offset = nextOffset
      }
    case .ipv6:
      writer.update(ip6t_entry.self, at: 0) {
        $0.target_offset = targetOffset
        $0.next_offset = nextOffset
      }
    }
    return writer.bytes
  }

  /// `struct ipt_ip`: addresses with masks, interfaces with masks, protocol, `IPT_INV_*` flags.
  func fillIPv4(_ ip: inout ipt_ip, _ h: IPTRuleHeader, goto: Bool) {
    var inverse: Int32 = 0
    if let s = h.source {
      Bytes.fill(&ip.src, with: s.value.address)
      Bytes.fill(&ip.smsk, with: s.value.mask)
      if s.negated { inverse |= IPT_INV_SRCIP }
    }
    if let d = h.destination {
      Bytes.fill(&ip.dst, with: d.value.address)
      Bytes.fill(&ip.dmsk, with: d.value.mask)
      if d.negated { inverse |= IPT_INV_DSTIP }
    }
    if let i = h.inInterface {
      let (name, mask) = Bytes.interface(i.value)
      Bytes.fill(&ip.iniface, with: name)
      Bytes.fill(&ip.iniface_mask, with: mask)
      if i.negated { inverse |= IPT_INV_VIA_IN }
    }
    if let o = h.outInterface {
      let (name, mask) = Bytes.interface(o.value)
      Bytes.fill(&ip.outiface, with: name)
      Bytes.fill(&ip.outiface_mask, with: mask)
      if o.negated { inverse |= IPT_INV_VIA_OUT }
    }
    if let p = h.proto {
      ip.proto = UInt16(p.value)
      if p.negated { inverse |= XT_INV_PROTO }
    }
    ip.invflags = UInt8(inverse)
    ip.flags = goto ? UInt8(IPT_F_GOTO) : 0
  }

  /// `struct ip6t_ip6`: as IPv4, plus `IP6T_F_PROTO` whenever `-p` names a protocol.
  func fillIPv6(_ ip: inout ip6t_ip6, _ h: IPTRuleHeader, goto: Bool) {
    var inverse: Int32 = 0
    if let s = h.source {
      Bytes.fill(&ip.src, with: s.value.address)
      Bytes.fill(&ip.smsk, with: s.value.mask)
      if s.negated { inverse |= IP6T_INV_SRCIP }
    }
    if let d = h.destination {
      Bytes.fill(&ip.dst, with: d.value.address)
      Bytes.fill(&ip.dmsk, with: d.value.mask)
      if d.negated { inverse |= IP6T_INV_DSTIP }
    }
    if let i = h.inInterface {
      let (name, mask) = Bytes.interface(i.value)
      Bytes.fill(&ip.iniface, with: name)
      Bytes.fill(&ip.iniface_mask, with: mask)
      if i.negated { inverse |= IP6T_INV_VIA_IN }
    }
    if let o = h.outInterface {
      let (name, mask) = Bytes.interface(o.value)
      Bytes.fill(&ip.outiface, with: name)
      Bytes.fill(&ip.outiface_mask, with: mask)
      if o.negated { inverse |= IP6T_INV_VIA_OUT }
    }
    var flags: Int32 = goto ? IP6T_F_GOTO : 0
    if let p = h.proto {
      ip.proto = UInt16(p.value)
      if p.value != 0 { flags |= IP6T_F_PROTO }
      if p.negated { inverse |= XT_INV_PROTO }
    }
    ip.invflags = UInt8(inverse)
    ip.flags = UInt8(flags)
  }
}

extension IPTTarget {
  var isGoto: Bool {
    if case .goto = self { return true }
    return false
  }
}
