// VBD and VIF hot-plug, removable media and device slots with xenapi-spec §5.4's errors, VIF MAC generation, and file-based storage: VDI create/destroy/resize/clone/snapshot/copy, VDI_IN_USE, SR.scan and SR usage.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "vm_fixtures.h"

namespace xenapi::testing {
namespace {

namespace fs = std::filesystem;

class Devices : public VmFixture {
 protected:
  StringSet backend_disks(const std::string& vm) {
    auto d = domain(vm).attached_disks;
    return StringSet(d.begin(), d.end());
  }
  StringSet backend_nics(const std::string& vm) {
    auto d = domain(vm).attached_nics;
    return StringSet(d.begin(), d.end());
  }
  std::string path_of(const std::string& vdi) {
    return h.store().read([&](const View& v) {
      const dm::Class& c = h.store().cls("VDI");
      return v.must_get(c, vdi)->at(c, "path").str();
    });
  }
  // An ISO-like read-only disk for the CD drive.
  std::string new_iso() {
    std::string vdi = new_vdi(4 * kMiB, "install.iso");
    h.ok("VDI.set_read_only", {Value(vdi), Value(true)});
    return vdi;
  }
};

// ---------------------------------------------------------------- VBD

TEST_F(Devices, VbdPlugAndUnplugNeedARunningVm) {
  for (const char* state : {"Halted", "Paused", "Suspended"}) {
    SCOPED_TRACE(state);
    Kit x = new_kit(std::string("vm-") + state);
    bring_to(x.vm, state);
    const std::string actual = std::string(state) == "Halted" ? "halted" : std::string(state) == "Paused" ? "paused" : "suspended";
    const Strings bad = {"VM_BAD_POWER_STATE", x.vm, "running", actual};
    EXPECT_EQ(h.fail("VBD.plug", {Value(x.disk_vbd)}), bad);
    EXPECT_EQ(h.fail("VBD.unplug", {Value(x.disk_vbd)}), bad);
    EXPECT_EQ(h.fail("VBD.unplug_force", {Value(x.disk_vbd)}), bad);
    EXPECT_EQ(h.fail("VIF.plug", {Value(x.vif)}), bad);
    EXPECT_EQ(h.fail("VIF.unplug", {Value(x.vif)}), bad);
    EXPECT_EQ(h.fail("VIF.unplug_force", {Value(x.vif)}), bad);
  }
}

TEST_F(Devices, VbdUnplugAndPlugOnARunningVm) {
  Kit k = new_kit();
  start(k.vm);
  EXPECT_EQ(h.fail("VBD.plug", {Value(k.disk_vbd)}), (Strings{"DEVICE_ALREADY_ATTACHED", k.disk_vbd}));
  EXPECT_EQ(backend_disks(k.vm), (StringSet{"xvda", "xvdd"}));

  h.ok("VBD.unplug", {Value(k.disk_vbd)});
  EXPECT_FALSE(flag("VBD", k.disk_vbd, "currently_attached"));
  EXPECT_EQ(backend_disks(k.vm), (StringSet{"xvdd"}));
  EXPECT_EQ(allowed("VBD", k.disk_vbd), (StringSet{"plug"}));
  EXPECT_EQ(allowed("VDI", k.disk_vdi).count("destroy"), 1u) << "a detached disk is free";
  EXPECT_EQ(h.fail("VBD.unplug", {Value(k.disk_vbd)}), (Strings{"DEVICE_ALREADY_DETACHED", k.disk_vbd}));
  EXPECT_EQ(h.fail("VBD.unplug_force", {Value(k.disk_vbd)}), (Strings{"DEVICE_ALREADY_DETACHED", k.disk_vbd}));

  h.ok("VBD.plug", {Value(k.disk_vbd)});
  EXPECT_TRUE(flag("VBD", k.disk_vbd, "currently_attached"));
  EXPECT_EQ(str("VBD", k.disk_vbd, "device"), "xvda");
  EXPECT_EQ(backend_disks(k.vm), (StringSet{"xvda", "xvdd"}));
  EXPECT_EQ(allowed("VBD", k.disk_vbd), (StringSet{"unplug", "unplug_force"}));
  EXPECT_EQ(allowed("VDI", k.disk_vdi).count("destroy"), 0u);

  h.ok("VBD.unplug_force", {Value(k.disk_vbd)});
  EXPECT_FALSE(flag("VBD", k.disk_vbd, "currently_attached"));
  // A halt detaches everything, a start attaches everything again.
  h.ok("VM.hard_shutdown", {Value(k.vm)});
  start(k.vm);
  EXPECT_TRUE(flag("VBD", k.disk_vbd, "currently_attached"));
}

TEST_F(Devices, VbdHotPlugOfANewDisk) {
  Kit k = new_kit();
  start(k.vm);
  std::string vbd = add_disk(k.vm, "1");
  EXPECT_FALSE(flag("VBD", vbd, "currently_attached"));
  EXPECT_EQ(str("VBD", vbd, "device"), "");
  EXPECT_EQ(allowed("VBD", vbd), (StringSet{"plug"}));
  h.ok("VBD.plug", {Value(vbd)});
  EXPECT_TRUE(flag("VBD", vbd, "currently_attached"));
  EXPECT_EQ(str("VBD", vbd, "device"), "xvdb");
  EXPECT_EQ(backend_disks(k.vm), (StringSet{"xvda", "xvdb", "xvdd"}));
  // An attached VBD cannot be destroyed.
  EXPECT_EQ(h.fail("VBD.destroy", {Value(vbd)})[0], "OPERATION_NOT_ALLOWED");
  h.ok("VBD.unplug", {Value(vbd)});
  h.ok("VBD.destroy", {Value(vbd)});
}

// xenapi-spec §5.4: unplug_force skips the guest, not the drive's own rules.
TEST_F(Devices, VbdNotUnpluggableStaysPluggedEvenWhenForced) {
  Kit k = new_kit();
  h.ok("VBD.set_unpluggable", {Value(k.disk_vbd), Value(false)});
  start(k.vm);
  EXPECT_TRUE(allowed("VBD", k.disk_vbd).empty());
  EXPECT_EQ(h.fail("VBD.unplug", {Value(k.disk_vbd)}), (Strings{"VBD_NOT_UNPLUGGABLE", k.disk_vbd}));
  EXPECT_EQ(h.fail("VBD.unplug_force", {Value(k.disk_vbd)}), (Strings{"VBD_NOT_UNPLUGGABLE", k.disk_vbd}));
  EXPECT_TRUE(flag("VBD", k.disk_vbd, "currently_attached"));
  EXPECT_EQ(backend_disks(k.vm), (StringSet{"xvda", "xvdd"}));
  h.ok("VBD.set_unpluggable", {Value(k.disk_vbd), Value(true)});
  EXPECT_EQ(allowed("VBD", k.disk_vbd), (StringSet{"unplug", "unplug_force"}));
  h.ok("VBD.unplug_force", {Value(k.disk_vbd)});
  EXPECT_FALSE(flag("VBD", k.disk_vbd, "currently_attached"));
}

// An HVM guest's CD drive stays; only its media changes.
TEST_F(Devices, HvmCdDrivesAreNotHotPlugged) {
  Kit k = new_kit();
  ASSERT_NE(str("VM", k.vm, "HVM_boot_policy"), "");
  start(k.vm);
  const Strings refused = {"OPERATION_NOT_ALLOWED", "HVM CDROMs cannot be hotplugged/unplugged, only inserted or ejected"};
  EXPECT_EQ(h.fail("VBD.unplug", {Value(k.cd_vbd)}), refused);
  EXPECT_EQ(h.fail("VBD.unplug_force", {Value(k.cd_vbd)}), refused);
  EXPECT_EQ(allowed("VBD", k.cd_vbd), StringSet{"insert"});
  // A drive added while it runs cannot be plugged either; it is attached at the next start.
  std::string late = add_cd(k.vm, "4");
  EXPECT_EQ(h.fail("VBD.plug", {Value(late)}), refused);
  h.ok("VM.clean_reboot", {Value(k.vm)});
  EXPECT_TRUE(flag("VBD", late, "currently_attached"));
  // A PV guest's CD drive is an ordinary hot-pluggable device.
  h.ok("VM.hard_shutdown", {Value(k.vm)});
  h.ok("VM.set_HVM_boot_policy", {Value(k.vm), Value("")});
  start(k.vm);
  EXPECT_EQ(allowed("VBD", k.cd_vbd), (StringSet{"unplug", "unplug_force", "insert"}));
  h.ok("VBD.unplug", {Value(k.cd_vbd)});
  h.ok("VBD.plug", {Value(k.cd_vbd)});
}

TEST_F(Devices, RefusingGuestRejectsUnplugButNotForce) {
  Kit k = new_kit("stubborn", kGiB, {{"sim_guest", Value("refuse")}});
  start(k.vm);
  Strings e = h.fail("VBD.unplug", {Value(k.disk_vbd)});
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ((Strings{e[0], e[1], e[2]}), (Strings{"DEVICE_DETACH_REJECTED", "VBD", k.disk_vbd}));
  EXPECT_TRUE(flag("VBD", k.disk_vbd, "currently_attached"));
  h.ok("VBD.unplug_force", {Value(k.disk_vbd)});
  e = h.fail("VIF.unplug", {Value(k.vif)});
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ((Strings{e[0], e[1], e[2]}), (Strings{"DEVICE_DETACH_REJECTED", "VIF", k.vif}));
  h.ok("VIF.unplug_force", {Value(k.vif)});
  EXPECT_FALSE(flag("VIF", k.vif, "currently_attached"));
}

TEST_F(Devices, FailedPlugLeavesTheDeviceDetached) {
  Kit k = new_kit();
  start(k.vm);
  h.ok("VBD.unplug", {Value(k.disk_vbd)});
  h.ok("VIF.unplug", {Value(k.vif)});
  h.backend().fail_next("attach", 2);
  EXPECT_EQ(h.fail("VBD.plug", {Value(k.disk_vbd)}), (Strings{"INTERNAL_ERROR", "hypervisor: simulated failure of attach (injected)"}));
  EXPECT_EQ(h.fail("VIF.plug", {Value(k.vif)}), (Strings{"INTERNAL_ERROR", "hypervisor: simulated failure of attach (injected)"}));
  EXPECT_FALSE(flag("VBD", k.disk_vbd, "currently_attached"));
  EXPECT_FALSE(flag("VIF", k.vif, "currently_attached"));
  EXPECT_EQ(backend_disks(k.vm), (StringSet{"xvdd"}));
  EXPECT_TRUE(backend_nics(k.vm).empty());
  h.ok("VBD.plug", {Value(k.disk_vbd)});
  h.ok("VIF.plug", {Value(k.vif)});
}

TEST_F(Devices, SharedWritableDiskCannotBeAttachedTwice) {
  Kit a = new_kit("a");
  std::string b = new_vm("b");
  std::string b_vbd = add_vbd(b, a.disk_vdi, "0");
  start(a.vm);
  EXPECT_EQ(h.fail("VBD.assert_attachable", {Value(b_vbd)}), (Strings{"VDI_IN_USE", a.disk_vdi, "attach"}));
  EXPECT_EQ(h.fail("VM.start", {Value(b), Value(false), Value(false)}), (Strings{"VDI_IN_USE", a.disk_vdi, "attach"}));
  EXPECT_EQ(power(b), "Halted");
  EXPECT_EQ(current_ops("VM", b), 0u);
  EXPECT_EQ(str("VM", b, "scheduled_to_be_resident_on"), kNull);
  // Hot-plugging it is refused the same way.
  h.ok("VBD.destroy", {Value(b_vbd)});
  start(b);
  b_vbd = add_vbd(b, a.disk_vdi, "1");
  EXPECT_EQ(h.fail("VBD.plug", {Value(b_vbd)}), (Strings{"VDI_IN_USE", a.disk_vdi, "attach"}));
  EXPECT_FALSE(flag("VBD", b_vbd, "currently_attached"));
  // Once the first VM lets go of it, it can be attached.
  h.ok("VM.hard_shutdown", {Value(a.vm)});
  h.ok("VBD.plug", {Value(b_vbd)});
  // A sharable disk can be attached twice.
  h.ok("VBD.unplug", {Value(b_vbd)});
  h.ok("VDI.set_sharable", {Value(a.disk_vdi), Value(true)});
  start(a.vm);
  h.ok("VBD.plug", {Value(b_vbd)});
}

TEST_F(Devices, CdInsertAndEject) {
  Kit k = new_kit();
  std::string iso = new_iso();
  // A disk is not removable media.
  EXPECT_EQ(h.fail("VBD.insert", {Value(k.disk_vbd), Value(iso)}), (Strings{"VBD_NOT_REMOVABLE_MEDIA", k.disk_vbd}));
  EXPECT_EQ(h.fail("VBD.eject", {Value(k.disk_vbd)}), (Strings{"VBD_NOT_REMOVABLE_MEDIA", k.disk_vbd}));
  // Empty drive.
  EXPECT_TRUE(flag("VBD", k.cd_vbd, "empty"));
  EXPECT_EQ(allowed("VBD", k.cd_vbd), (StringSet{"attach", "insert"}));
  EXPECT_EQ(h.fail("VBD.eject", {Value(k.cd_vbd)}), (Strings{"VBD_IS_EMPTY", k.cd_vbd}));

  h.ok("VBD.insert", {Value(k.cd_vbd), Value(iso)});
  EXPECT_FALSE(flag("VBD", k.cd_vbd, "empty"));
  EXPECT_EQ(str("VBD", k.cd_vbd, "VDI"), iso);
  EXPECT_EQ(strings_of(field("VDI", iso, "VBDs")), Strings{k.cd_vbd});
  EXPECT_EQ(allowed("VBD", k.cd_vbd), (StringSet{"attach", "eject"}));
  EXPECT_EQ(h.fail("VBD.insert", {Value(k.cd_vbd), Value(iso)}), (Strings{"VBD_NOT_EMPTY", k.cd_vbd}));

  // On a running VM the media changes live.
  start(k.vm);
  EXPECT_EQ(allowed("VBD", k.cd_vbd), StringSet{"eject"}) << "an HVM guest's CD drive is not hot-plugged";
  h.ok("VBD.eject", {Value(k.cd_vbd)});
  EXPECT_TRUE(flag("VBD", k.cd_vbd, "empty"));
  EXPECT_EQ(str("VBD", k.cd_vbd, "VDI"), kNull);
  EXPECT_TRUE(field("VDI", iso, "VBDs").arr().empty());
  EXPECT_TRUE(flag("VBD", k.cd_vbd, "currently_attached")) << "the drive stays, the media goes";
  h.ok("VBD.insert", {Value(k.cd_vbd), Value(iso)});
  EXPECT_FALSE(flag("VBD", k.cd_vbd, "empty"));

  // Not while suspended.
  h.ok("VM.suspend", {Value(k.vm)});
  EXPECT_TRUE(allowed("VBD", k.cd_vbd).empty());
  EXPECT_EQ(h.fail("VBD.eject", {Value(k.cd_vbd)}), (Strings{"VM_BAD_POWER_STATE", k.vm, "halted, running, paused", "suspended"}));
  h.ok("VM.resume", {Value(k.vm), Value(false), Value(false)});
  h.ok("VBD.eject", {Value(k.cd_vbd)});
  EXPECT_EQ(h.fail("VBD.insert", {Value(k.cd_vbd), Value(kNull)}), (Strings{"HANDLE_INVALID", "VDI", kNull}));
}

TEST_F(Devices, VbdSetMode) {
  Kit k = new_kit();
  h.ok("VBD.set_mode", {Value(k.disk_vbd), Value("RO")});
  EXPECT_EQ(str("VBD", k.disk_vbd, "mode"), "RO");
  EXPECT_EQ(h.fail("VBD.set_mode", {Value(k.cd_vbd), Value("RW")}), (Strings{"VBD_CDS_MUST_BE_READONLY"}));
  start(k.vm);
  EXPECT_EQ(h.fail("VBD.set_mode", {Value(k.disk_vbd), Value("RW")}), (Strings{"VM_BAD_POWER_STATE", k.vm, "halted", "running"}));
  EXPECT_EQ(str("VBD", k.disk_vbd, "mode"), "RO");
  h.ok("VM.hard_shutdown", {Value(k.vm)});
  h.ok("VBD.set_mode", {Value(k.disk_vbd), Value("RW")});
  EXPECT_EQ(str("VBD", k.disk_vbd, "mode"), "RW");
}

TEST_F(Devices, VbdDeviceSlots) {
  std::string vm = new_vm();
  Strings all;
  for (int i = 0; i < 16; ++i) all.push_back(std::to_string(i));
  EXPECT_EQ(strings_of(h.ok("VM.get_allowed_VBD_devices", {Value(vm)})), all);
  add_disk(vm, "0");
  add_cd(vm, "3");
  std::string auto_vbd = h.ok("VBD.create", {vbd_record(vm, new_vdi(), "autodetect")}).str();
  EXPECT_EQ(str("VBD", auto_vbd, "userdevice"), "1");
  Strings want;
  for (int i = 0; i < 16; ++i)
    if (i != 0 && i != 1 && i != 3) want.push_back(std::to_string(i));
  EXPECT_EQ(strings_of(h.ok("VM.get_allowed_VBD_devices", {Value(vm)})), want);
  EXPECT_EQ(h.fail("VBD.create", {vbd_record(vm, new_vdi(), "3")}), (Strings{"DEVICE_ALREADY_EXISTS", "3"}));
  EXPECT_EQ(h.fail("VBD.create", {vbd_record(vm, new_vdi(), "floppy")}), (Strings{"INVALID_DEVICE", "floppy"}));
}

// ---------------------------------------------------------------- VIF

TEST_F(Devices, VifUnplugAndPlugOnARunningVm) {
  Kit k = new_kit();
  start(k.vm);
  EXPECT_EQ(backend_nics(k.vm), (StringSet{"0"}));
  EXPECT_EQ(h.fail("VIF.plug", {Value(k.vif)}), (Strings{"DEVICE_ALREADY_ATTACHED", k.vif}));
  h.ok("VIF.unplug", {Value(k.vif)});
  EXPECT_FALSE(flag("VIF", k.vif, "currently_attached"));
  EXPECT_TRUE(backend_nics(k.vm).empty());
  EXPECT_EQ(allowed("VIF", k.vif), (StringSet{"plug"}));
  EXPECT_EQ(h.fail("VIF.unplug", {Value(k.vif)}), (Strings{"DEVICE_ALREADY_DETACHED", k.vif}));
  EXPECT_EQ(h.fail("VIF.unplug_force", {Value(k.vif)}), (Strings{"DEVICE_ALREADY_DETACHED", k.vif}));
  h.ok("VIF.plug", {Value(k.vif)});
  EXPECT_TRUE(flag("VIF", k.vif, "currently_attached"));
  EXPECT_EQ(backend_nics(k.vm), (StringSet{"0"}));
  EXPECT_EQ(allowed("VIF", k.vif), (StringSet{"unplug"}));
  h.ok("VIF.unplug_force", {Value(k.vif)});
  EXPECT_FALSE(flag("VIF", k.vif, "currently_attached"));

  // A NIC added to a running VM waits to be plugged.
  std::string second = add_vif(k.vm, "1");
  EXPECT_FALSE(flag("VIF", second, "currently_attached"));
  EXPECT_EQ(allowed("VIF", second), (StringSet{"plug"}));
  h.ok("VIF.plug", {Value(second)});
  EXPECT_EQ(backend_nics(k.vm), (StringSet{"1"}));
  EXPECT_EQ(h.fail("VIF.destroy", {Value(second)})[0], "OPERATION_NOT_ALLOWED");
  h.ok("VM.clean_shutdown", {Value(k.vm)});
  EXPECT_FALSE(flag("VIF", second, "currently_attached"));
  EXPECT_EQ(allowed("VIF", second), (StringSet{"attach"}));
  h.ok("VIF.destroy", {Value(second)});
}

TEST_F(Devices, VifDeviceSlots) {
  std::string vm = new_vm();
  EXPECT_EQ(strings_of(h.ok("VM.get_allowed_VIF_devices", {Value(vm)})), (Strings{"0", "1", "2", "3", "4", "5", "6"}));
  add_vif(vm, "0");
  add_vif(vm, "4");
  EXPECT_EQ(strings_of(h.ok("VM.get_allowed_VIF_devices", {Value(vm)})), (Strings{"1", "2", "3", "5", "6"}));
  Strings e = h.fail("VIF.create", {map_of({{"device", Value("4")},
                                            {"network", Value(network())},
                                            {"VM", Value(vm)},
                                            {"MAC", Value("")},
                                            {"MTU", Value(int64_t{1500})},
                                            {"other_config", Value::empty_map()},
                                            {"qos_algorithm_type", Value("")},
                                            {"qos_algorithm_params", Value::empty_map()}})});
  EXPECT_EQ(e, (Strings{"DEVICE_ALREADY_EXISTS", "4"}));
}

TEST_F(Devices, VifMacsAreGeneratedLocallyAdministeredAndUnique) {
  const std::regex mac_re("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$");
  std::set<std::string> macs;
  size_t made = 0;
  for (int v = 0; v < 30; ++v) {
    std::string vm = new_vm("nics" + std::to_string(v));
    for (int d = 0; d < 7; ++d) {
      std::string vif = add_vif(vm, std::to_string(d));
      std::string mac = str("VIF", vif, "MAC");
      ASSERT_TRUE(std::regex_match(mac, mac_re)) << mac;
      unsigned first = std::stoul(mac.substr(0, 2), nullptr, 16);
      EXPECT_EQ(first & 0x02u, 0x02u) << "locally administered: " << mac;
      EXPECT_EQ(first & 0x01u, 0u) << "unicast: " << mac;
      EXPECT_TRUE(flag("VIF", vif, "MAC_autogenerated"));
      macs.insert(mac);
      ++made;
    }
  }
  EXPECT_EQ(macs.size(), made);
  // A given MAC is kept as it is; a malformed one is refused.
  std::string vm = new_vm("given");
  std::string vif = add_vif(vm, "0", "00:16:3e:12:34:56");
  EXPECT_EQ(str("VIF", vif, "MAC"), "00:16:3e:12:34:56");
  EXPECT_FALSE(flag("VIF", vif, "MAC_autogenerated"));
  Strings e = h.fail("VIF.create", {map_of({{"device", Value("1")},
                                            {"network", Value(network())},
                                            {"VM", Value(vm)},
                                            {"MAC", Value("00:16:3e:12:34")},
                                            {"MTU", Value(int64_t{1500})},
                                            {"other_config", Value::empty_map()},
                                            {"qos_algorithm_type", Value("")},
                                            {"qos_algorithm_params", Value::empty_map()}})});
  EXPECT_EQ(e, (Strings{"MAC_INVALID", "00:16:3e:12:34"}));
}

// ---------------------------------------------------------------- storage

class Storage : public Devices {
 protected:
  // virtual_allocation and physical_utilisation of the SR are the sums over its VDIs.
  void expect_sr_usage() {
    int64_t virt = 0, phys = 0;
    const Value vdis = field("SR", sr(), "VDIs");
    for (const auto& r : vdis.arr()) {
      virt += num("VDI", r.str(), "virtual_size");
      phys += num("VDI", r.str(), "physical_utilisation");
    }
    EXPECT_EQ(num("SR", sr(), "virtual_allocation"), virt);
    EXPECT_EQ(num("SR", sr(), "physical_utilisation"), phys);
  }
  static int64_t blocks_of(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return static_cast<int64_t>(st.st_blocks) * 512;
  }
  static void write_at(const std::string& path, int64_t offset, const std::string& data) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f) << path;
    f.seekp(offset);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  static std::string read_at(const std::string& path, int64_t offset, size_t n) {
    std::ifstream f(path, std::ios::binary);
    f.seekg(offset);
    std::string out(n, '\0');
    f.read(out.data(), static_cast<std::streamsize>(n));
    return out;
  }
};

TEST_F(Storage, CreateMakesASparseFileOfTheRightSizeAndDestroyRemovesIt) {
  const int64_t alloc = num("SR", sr(), "virtual_allocation");
  std::string vdi = new_vdi(kGiB, "data");
  std::string uuid = str("VDI", vdi, "uuid");
  std::string path = path_of(vdi);
  EXPECT_EQ(path, sr_dir() + "/" + uuid + ".img");
  ASSERT_TRUE(fs::exists(path));
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(path)), kGiB);
  EXPECT_LT(blocks_of(path), kMiB) << "sparse";
  EXPECT_EQ(num("VDI", vdi, "virtual_size"), kGiB);
  EXPECT_EQ(num("VDI", vdi, "physical_utilisation"), blocks_of(path));
  EXPECT_EQ(str("VDI", vdi, "location"), uuid);
  EXPECT_EQ(str("VDI", vdi, "SR"), sr());
  EXPECT_TRUE(set_of(field("SR", sr(), "VDIs")).count(vdi));
  EXPECT_EQ(num("SR", sr(), "virtual_allocation"), alloc + kGiB);
  EXPECT_EQ(allowed("VDI", vdi), (StringSet{"snapshot", "clone", "copy", "resize", "destroy", "forget", "set_on_boot", "update"}));
  expect_sr_usage();

  h.ok("VDI.destroy", {Value(vdi)});
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(h.fail("VDI.get_record", {Value(vdi)}), (Strings{"HANDLE_INVALID", "VDI", vdi}));
  EXPECT_EQ(num("SR", sr(), "virtual_allocation"), alloc);
  expect_sr_usage();

  EXPECT_EQ(h.fail("VDI.create", {map_of({{"name_label", Value("bad")},
                                          {"SR", Value(sr())},
                                          {"virtual_size", Value(int64_t{-1})},
                                          {"type", Value("user")},
                                          {"sharable", Value(false)},
                                          {"read_only", Value(false)},
                                          {"other_config", Value::empty_map()}})}),
            (Strings{"INVALID_VALUE", "virtual_size", "-1"}));
}

TEST_F(Storage, ResizeGrowsTheFile) {
  std::string vdi = new_vdi(kGiB);
  h.ok("VDI.resize", {Value(vdi), Value(2 * kGiB)});
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(path_of(vdi))), 2 * kGiB);
  EXPECT_EQ(num("VDI", vdi, "virtual_size"), 2 * kGiB);
  expect_sr_usage();
  EXPECT_EQ(h.fail("VDI.resize", {Value(vdi), Value(kGiB)}), (Strings{"INVALID_VALUE", "size", std::to_string(kGiB)}));
  EXPECT_EQ(num("VDI", vdi, "virtual_size"), 2 * kGiB);
}

TEST_F(Storage, CloneSnapshotAndCopyMakeNewFilesWithTheData) {
  std::string src = new_vdi(64 * kMiB, "source");
  const std::string data = "xenapi-server test pattern";
  write_at(path_of(src), 5 * kMiB, data);
  h.ok("VDI.update", {Value(src)});
  EXPECT_GE(num("VDI", src, "physical_utilisation"), 4096);

  std::string clone = h.ok("VDI.clone", {Value(src), Value::empty_map()}).str();
  std::string snap = h.ok("VDI.snapshot", {Value(src), Value::empty_map()}).str();
  std::string copy = h.ok("VDI.copy", {Value(src), Value(sr())}).str();
  std::set<std::string> paths = {path_of(src)};
  for (const auto& [name, vdi] : {std::pair{"clone", clone}, std::pair{"snapshot", snap}, std::pair{"copy", copy}}) {
    SCOPED_TRACE(name);
    std::string p = path_of(vdi);
    EXPECT_TRUE(paths.insert(p).second) << "a new file";
    ASSERT_TRUE(fs::exists(p));
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(p)), 64 * kMiB);
    EXPECT_EQ(read_at(p, 5 * kMiB, data.size()), data);
    EXPECT_LT(blocks_of(p), 4 * kMiB) << "still sparse";
    EXPECT_EQ(num("VDI", vdi, "virtual_size"), 64 * kMiB);
    EXPECT_EQ(str("VDI", vdi, "name_label"), "source");
    EXPECT_EQ(str("VDI", vdi, "SR"), sr());
    EXPECT_NE(str("VDI", vdi, "uuid"), str("VDI", src, "uuid"));
  }
  EXPECT_TRUE(flag("VDI", snap, "is_a_snapshot"));
  EXPECT_TRUE(flag("VDI", snap, "read_only"));
  EXPECT_EQ(str("VDI", snap, "snapshot_of"), src);
  EXPECT_EQ(strings_of(field("VDI", src, "snapshots")), Strings{snap});
  for (const auto& vdi : {clone, copy}) {
    EXPECT_FALSE(flag("VDI", vdi, "is_a_snapshot"));
    EXPECT_FALSE(flag("VDI", vdi, "read_only"));
    EXPECT_EQ(str("VDI", vdi, "snapshot_of"), kNull);
  }
  // A clone of a snapshot is an ordinary writable disk.
  std::string from_snap = h.ok("VDI.clone", {Value(snap), Value::empty_map()}).str();
  EXPECT_FALSE(flag("VDI", from_snap, "read_only"));
  EXPECT_FALSE(flag("VDI", from_snap, "is_a_snapshot"));
  // The copies are independent of the source.
  write_at(path_of(src), 5 * kMiB, std::string(data.size(), 'z'));
  EXPECT_EQ(read_at(path_of(clone), 5 * kMiB, data.size()), data);
  expect_sr_usage();

  // Copy into an existing disk: it must be large enough.
  std::string small = new_vdi(kMiB, "small");
  EXPECT_EQ(h.fail("VDI.copy", {Value(src), Value(kNull), Value(kNull), Value(small)}),
            (Strings{"VDI_TOO_SMALL", small, std::to_string(64 * kMiB)}));
  std::string big = new_vdi(128 * kMiB, "big");
  EXPECT_EQ(h.ok("VDI.copy", {Value(src), Value(kNull), Value(kNull), Value(big)}).str(), big);
  EXPECT_EQ(read_at(path_of(big), 5 * kMiB, data.size()), std::string(data.size(), 'z'));
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(path_of(big))), 128 * kMiB);
  expect_sr_usage();
}

TEST_F(Storage, VdiInUseWhileAttachedToARunningVm) {
  Kit k = new_kit();
  start(k.vm);
  const std::string vdi = k.disk_vdi;
  EXPECT_EQ(h.fail("VDI.destroy", {Value(vdi)}), (Strings{"VDI_IN_USE", vdi, "destroy"}));
  EXPECT_EQ(h.fail("VDI.resize", {Value(vdi), Value(2 * kGiB)}), (Strings{"VDI_IN_USE", vdi, "resize"}));
  EXPECT_EQ(h.fail("VDI.forget", {Value(vdi)}), (Strings{"VDI_IN_USE", vdi, "forget"}));
  EXPECT_EQ(allowed("VDI", vdi), (StringSet{"snapshot", "clone", "copy", "update"}));
  EXPECT_TRUE(fs::exists(path_of(vdi)));
  // Snapshots of a disk in use are fine.
  std::string snap = h.ok("VDI.snapshot", {Value(vdi), Value::empty_map()}).str();
  EXPECT_TRUE(flag("VDI", snap, "is_a_snapshot"));

  h.ok("VM.clean_shutdown", {Value(k.vm)});
  EXPECT_EQ(allowed("VDI", vdi).count("destroy"), 1u);
  h.ok("VDI.resize", {Value(vdi), Value(2 * kGiB)});
  // A disk of a halted VM can go, and its VBD with it (as xapi does): the VM
  // still starts.
  std::string path = path_of(vdi);
  h.ok("VDI.destroy", {Value(vdi)});
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(h.fail("VBD.get_record", {Value(k.disk_vbd)}), (Strings{"HANDLE_INVALID", "VBD", k.disk_vbd}));
  EXPECT_EQ(strings_of(field("VM", k.vm, "VBDs")), Strings{k.cd_vbd});
  start(k.vm);
  EXPECT_EQ(power(k.vm), "Running");
}

TEST_F(Storage, ScanIntroducesStrayFilesAndMarksMissingOnes) {
  // A volume someone put there.
  const std::string stray_uuid = "0badc0de-0000-4000-8000-000000000001";
  const std::string stray = sr_dir() + "/" + stray_uuid + ".img";
  fs::create_directories(sr_dir());
  { std::ofstream(stray) << "not empty"; }
  fs::resize_file(stray, 4 * kMiB);
  // A file that is not a volume.
  { std::ofstream(sr_dir() + "/notes.txt") << "ignore me"; }
  // A volume that vanished.
  std::string gone = new_vdi(kMiB, "gone");
  fs::remove(path_of(gone));
  // A volume that grew behind our back.
  std::string grown = new_vdi(kMiB, "grown");
  fs::resize_file(path_of(grown), 3 * kMiB);
  const size_t before = count("VDI");

  h.ok("SR.scan", {Value(sr())});
  EXPECT_EQ(count("VDI"), before + 1);
  std::string found = h.ok("VDI.get_by_uuid", {Value(stray_uuid)}).str();
  EXPECT_EQ(str("VDI", found, "SR"), sr());
  EXPECT_EQ(num("VDI", found, "virtual_size"), 4 * kMiB);
  EXPECT_EQ(path_of(found), stray);
  EXPECT_FALSE(flag("VDI", found, "missing"));
  EXPECT_TRUE(flag("VDI", gone, "missing"));
  EXPECT_FALSE(flag("VDI", grown, "missing"));
  EXPECT_EQ(num("VDI", grown, "virtual_size"), 3 * kMiB);
  expect_sr_usage();
  // Scanning again changes nothing.
  h.ok("SR.scan", {Value(sr())});
  EXPECT_EQ(count("VDI"), before + 1);
  // The introduced volume is managed like any other.
  h.ok("VDI.destroy", {Value(found)});
  EXPECT_FALSE(fs::exists(stray));
  h.ok("VDI.forget", {Value(gone)});
  expect_sr_usage();
}

TEST_F(Storage, PhysicalUtilisationFollowsWrittenData) {
  std::string vdi = new_vdi(64 * kMiB);
  const int64_t before = num("SR", sr(), "physical_utilisation");
  write_at(path_of(vdi), 0, std::string(2 * kMiB, 'x'));
  h.ok("SR.scan", {Value(sr())});
  EXPECT_GE(num("VDI", vdi, "physical_utilisation"), 2 * kMiB);
  EXPECT_GE(num("SR", sr(), "physical_utilisation"), before + 2 * kMiB);
  expect_sr_usage();
}

TEST_F(Storage, SupportedTypes) {
  StringSet types = set_of(h.ok("SR.get_supported_types"));
  EXPECT_TRUE(types.count(str("SR", sr(), "type"))) << "the local SR's own type";
  EXPECT_TRUE(types.count("ext"));
}

// ---------------------------------------------------------------- operations in progress

TEST_F(Devices, DeviceOperationInProgressBlocksTheOthers) {
  Kit k = new_kit();
  start(k.vm);
  {
    HeldOperation held(h, "VBD", k.disk_vbd, "unplug");
    Value cur = field("VBD", k.disk_vbd, "current_operations");
    ASSERT_TRUE(cur.find(held.key()));
    EXPECT_EQ(cur.find(held.key())->str(), "unplug");
    EXPECT_TRUE(allowed("VBD", k.disk_vbd).empty()) << "nothing beside an unplug";
    const Strings busy = {"OTHER_OPERATION_IN_PROGRESS", "VBD", k.disk_vbd, "unplug", held.key()};
    EXPECT_EQ(h.fail("VBD.unplug", {Value(k.disk_vbd)}), busy);
    EXPECT_EQ(h.fail("VBD.unplug_force", {Value(k.disk_vbd)}), busy);
    EXPECT_EQ(h.fail("VBD.plug", {Value(k.disk_vbd)}), busy);
    // Other devices are not affected.
    EXPECT_EQ(allowed("VBD", k.cd_vbd), StringSet{"insert"});
  }
  EXPECT_EQ(current_ops("VBD", k.disk_vbd), 0u);
  EXPECT_EQ(allowed("VBD", k.disk_vbd), (StringSet{"unplug", "unplug_force"}));
  {
    HeldOperation held(h, "VIF", k.vif, "unplug");
    EXPECT_TRUE(allowed("VIF", k.vif).empty());
    EXPECT_EQ(h.fail("VIF.unplug_force", {Value(k.vif)}),
              (Strings{"OTHER_OPERATION_IN_PROGRESS", "VIF", k.vif, "unplug", held.key()}));
  }
  h.ok("VIF.unplug", {Value(k.vif)});
  // A finished call leaves nothing behind.
  h.ok("VBD.unplug", {Value(k.disk_vbd)});
  EXPECT_EQ(current_ops("VBD", k.disk_vbd), 0u);
  EXPECT_EQ(current_ops("VIF", k.vif), 0u);
}

TEST_F(Storage, DiskOperationsInProgress) {
  std::string vdi = new_vdi(8 * kMiB, "busy disk");
  {
    HeldOperation held(h, "VDI", vdi, "clone");
    // Readers run side by side; anything that changes the disk waits.
    EXPECT_EQ(allowed("VDI", vdi), (StringSet{"snapshot", "clone", "copy", "update"}));
    std::string c = h.ok("VDI.clone", {Value(vdi), Value::empty_map()}).str();
    EXPECT_EQ(str("VDI", c, "SR"), sr());
    const Strings busy = {"OTHER_OPERATION_IN_PROGRESS", "VDI", vdi, "clone", held.key()};
    EXPECT_EQ(h.fail("VDI.destroy", {Value(vdi)}), busy);
    EXPECT_EQ(h.fail("VDI.resize", {Value(vdi), Value(16 * kMiB)}), busy);
    EXPECT_EQ(h.fail("VDI.forget", {Value(vdi)}), busy);
    EXPECT_EQ(h.fail("VDI.set_on_boot", {Value(vdi), Value("reset")}), busy);
    EXPECT_TRUE(fs::exists(path_of(vdi)));
    EXPECT_EQ(current_ops("VDI", vdi), 1u) << "the clone beside it came and went";
  }
  {
    HeldOperation held(h, "VDI", vdi, "resize");
    EXPECT_TRUE(allowed("VDI", vdi).empty());
    EXPECT_EQ(h.fail("VDI.snapshot", {Value(vdi), Value::empty_map()}),
              (Strings{"OTHER_OPERATION_IN_PROGRESS", "VDI", vdi, "resize", held.key()}));
  }
  h.ok("VDI.resize", {Value(vdi), Value(16 * kMiB)});
  h.ok("VDI.destroy", {Value(vdi)});
}

TEST_F(Storage, SrOperationsFollowTheTable) {
  const StringSet all = {"scan", "update", "vdi_create", "vdi_destroy", "vdi_resize", "vdi_clone", "vdi_snapshot",
                         "vdi_set_on_boot"};
  EXPECT_EQ(allowed("SR", sr()), all);
  {
    HeldOperation held(h, "SR", sr(), "scan");
    StringSet without_scan = all;
    without_scan.erase("scan");
    EXPECT_EQ(allowed("SR", sr()), without_scan) << "one scan at a time";
    EXPECT_EQ(h.fail("SR.scan", {Value(sr())}), (Strings{"OTHER_OPERATION_IN_PROGRESS", "SR", sr(), "scan", held.key()}));
    // Disks come and go during a scan.
    std::string vdi = new_vdi(kMiB);
    h.ok("VDI.destroy", {Value(vdi)});
  }
  EXPECT_EQ(allowed("SR", sr()), all);
  h.ok("SR.scan", {Value(sr())});
  EXPECT_EQ(current_ops("SR", sr()), 0u);
  // An SR without a folder of volumes supports none of it.
  std::string other = h.store().write([&](Txn& t) {
    const dm::Class& c = h.store().cls("SR");
    std::vector<Value> v = h.store().defaults(c);
    v[c.field("name_label")->index] = Value("foreign");
    v[c.field("uuid")->index] = Value("f0f0f0f0-0000-4000-8000-000000000000");
    return t.create(c, std::move(v));
  });
  EXPECT_TRUE(allowed("SR", other).empty());
  EXPECT_EQ(h.fail("SR.scan", {Value(other)}), (Strings{"SR_OPERATION_NOT_SUPPORTED", other}));
  EXPECT_EQ(h.fail("VDI.create", {map_of({{"name_label", Value("x")},
                                          {"name_description", Value("")},
                                          {"SR", Value(other)},
                                          {"virtual_size", Value(kMiB)},
                                          {"type", Value("user")},
                                          {"sharable", Value(false)},
                                          {"read_only", Value(false)},
                                          {"other_config", Value::empty_map()}})}),
            (Strings{"SR_OPERATION_NOT_SUPPORTED", other}));
}

TEST_F(Storage, SetOnBootNeedsADetachedDisk) {
  Kit k = new_kit();
  h.ok("VDI.set_on_boot", {Value(k.disk_vdi), Value("persist")});
  start(k.vm);
  EXPECT_EQ(allowed("VDI", k.disk_vdi).count("set_on_boot"), 0u);
  EXPECT_EQ(h.fail("VDI.set_on_boot", {Value(k.disk_vdi), Value("reset")}),
            (Strings{"VDI_IN_USE", k.disk_vdi, "set_on_boot"}));
  EXPECT_EQ(str("VDI", k.disk_vdi, "on_boot"), "persist");
  h.ok("VM.hard_shutdown", {Value(k.vm)});
  EXPECT_EQ(allowed("VDI", k.disk_vdi).count("set_on_boot"), 1u);
  h.ok("VDI.set_on_boot", {Value(k.disk_vdi), Value("reset")});
  EXPECT_EQ(str("VDI", k.disk_vdi, "on_boot"), "reset");
  // Copying into a disk in use is refused as well.
  start(k.vm);
  std::string src = new_vdi(kMiB, "source");
  EXPECT_EQ(h.fail("VDI.copy", {Value(src), Value(kNull), Value(kNull), Value(k.disk_vdi)}),
            (Strings{"VDI_IN_USE", k.disk_vdi, "copy"}));
}

}  // namespace
}  // namespace xenapi::testing
