// VM.clone, copy, snapshot, checkpoint, revert and provision (xenapi-spec §5.5): new disks, shared CDs, VIFs with new or kept MACs, template flags, provisioning from other_config "disks", and cleanup when a copy fails.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <map>

#include "vm_fixtures.h"

namespace xenapi::testing {
namespace {

namespace fs = std::filesystem;

class Templates : public VmFixture {
 protected:
  std::string path_of(const std::string& vdi) {
    return h.store().read([&](const View& v) {
      const dm::Class& c = h.store().cls("VDI");
      return v.must_get(c, vdi)->at(c, "path").str();
    });
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
  // The VM's VBDs by userdevice.
  std::map<std::string, std::string> vbds_of(const std::string& vm) {
    std::map<std::string, std::string> out;
    const Value refs = field("VM", vm, "VBDs");
    for (const auto& r : refs.arr()) out[str("VBD", r.str(), "userdevice")] = r.str();
    return out;
  }
  std::map<std::string, std::string> vifs_of(const std::string& vm) {
    std::map<std::string, std::string> out;
    const Value refs = field("VM", vm, "VIFs");
    for (const auto& r : refs.arr()) out[str("VIF", r.str(), "device")] = r.str();
    return out;
  }
  size_t files_in_sr() { return static_cast<size_t>(std::distance(fs::directory_iterator(sr_dir()), {})); }

  // A VM with a disk holding data (slot 0), a second disk (1), a CD with
  // media (3), an empty CD (4), and two NICs.
  struct Rich {
    std::string vm, disk0, disk1, iso;
  };
  const std::string data = "written before the copy";
  Rich new_rich(const std::string& name = "rich") {
    Rich r;
    r.vm = new_vm(name, kGiB, 1, {{"mac_seed", Value("c0ffee00-0000-4000-8000-000000000000")}});
    add_disk(r.vm, "0", 64 * kMiB);
    add_disk(r.vm, "1", 32 * kMiB);
    r.disk0 = str("VBD", vbds_of(r.vm)["0"], "VDI");
    r.disk1 = str("VBD", vbds_of(r.vm)["1"], "VDI");
    write_at(path_of(r.disk0), kMiB, data);
    r.iso = new_vdi(8 * kMiB, "install.iso");
    h.ok("VDI.set_read_only", {Value(r.iso), Value(true)});
    add_cd(r.vm, "3", r.iso);
    add_cd(r.vm, "4");
    add_vif(r.vm, "0");
    add_vif(r.vm, "1");
    return r;
  }

  // The devices of `copy` mirror those of `src`; disks are new (kept: same
  // VDIs), CDs share their media, VIFs keep or change their MACs.
  void expect_devices_copied(const Rich& src, const std::string& copy, bool new_disks, bool same_macs) {
    auto a = vbds_of(src.vm), b = vbds_of(copy);
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [dev, vbd] : a) {
      SCOPED_TRACE("VBD " + dev);
      ASSERT_TRUE(b.count(dev));
      const std::string& other = b[dev];
      EXPECT_NE(other, vbd);
      for (const char* f : {"type", "mode", "bootable", "empty", "unpluggable"})
        EXPECT_EQ(field("VBD", other, f), field("VBD", vbd, f)) << f;
      EXPECT_FALSE(flag("VBD", other, "currently_attached"));
      EXPECT_EQ(str("VBD", other, "VM"), copy);
      const std::string vdi = str("VBD", vbd, "VDI"), new_vdi = str("VBD", other, "VDI");
      if (str("VBD", vbd, "type") == "CD") {
        EXPECT_EQ(new_vdi, vdi) << "CDs share their media";
      } else if (new_disks) {
        EXPECT_NE(new_vdi, vdi) << "disks are copied";
        EXPECT_NE(path_of(new_vdi), path_of(vdi));
        EXPECT_TRUE(fs::exists(path_of(new_vdi)));
        EXPECT_EQ(num("VDI", new_vdi, "virtual_size"), num("VDI", vdi, "virtual_size"));
      }
    }
    auto fa = vifs_of(src.vm), fb = vifs_of(copy);
    ASSERT_EQ(fa.size(), fb.size());
    for (const auto& [dev, vif] : fa) {
      SCOPED_TRACE("VIF " + dev);
      ASSERT_TRUE(fb.count(dev));
      EXPECT_NE(fb[dev], vif);
      EXPECT_EQ(str("VIF", fb[dev], "network"), str("VIF", vif, "network"));
      EXPECT_EQ(num("VIF", fb[dev], "MTU"), num("VIF", vif, "MTU"));
      if (same_macs) EXPECT_EQ(str("VIF", fb[dev], "MAC"), str("VIF", vif, "MAC"));
      else EXPECT_NE(str("VIF", fb[dev], "MAC"), str("VIF", vif, "MAC"));
    }
  }
};

// ---------------------------------------------------------------- clone and copy

TEST_F(Templates, CloneOfADefaultTemplateIsAnOrdinaryTemplate) {
  const std::string t = debian();
  Value src = record("VM", t);
  std::string c = h.ok("VM.clone", {Value(t), Value("my debian")}).str();
  Value rec = record("VM", c);
  EXPECT_EQ(rec.find("name_label")->str(), "my debian");
  EXPECT_TRUE(rec.find("is_a_template")->boolean());
  EXPECT_FALSE(rec.find("is_default_template")->boolean());
  EXPECT_FALSE(rec.find("is_a_snapshot")->boolean());
  EXPECT_EQ(rec.find("power_state")->str(), "Halted");
  const Value& other = *rec.find("other_config");
  EXPECT_FALSE(other.find("default_template"));
  ASSERT_TRUE(other.find("disks")) << "the provisioning description travels with the clone";
  EXPECT_EQ(other.find("disks")->str(), src.find("other_config")->find("disks")->str());
  ASSERT_TRUE(other.find("mac_seed"));
  EXPECT_NE(other.find("mac_seed")->str(), src.find("other_config")->find("mac_seed")->str());
  for (const char* f : {"memory_static_max", "memory_dynamic_max", "VCPUs_max", "HVM_boot_params", "platform",
                        "recommendations", "actions_after_crash"})
    EXPECT_EQ(*rec.find(f), *src.find(f)) << f;
  EXPECT_NE(rec.find("uuid")->str(), src.find("uuid")->str());
  EXPECT_NE(rec.find("metrics")->str(), src.find("metrics")->str());
  EXPECT_NE(rec.find("metrics")->str(), kNull);
  EXPECT_EQ(field("VM", t, "current_operations").map().size(), 0u);
  // A clone of that template is still a template; copy too.
  std::string again = h.ok("VM.clone", {Value(c), Value("again")}).str();
  EXPECT_TRUE(flag("VM", again, "is_a_template"));
  std::string copied = h.ok("VM.copy", {Value(t), Value("copied"), Value(kNull)}).str();
  EXPECT_TRUE(flag("VM", copied, "is_a_template"));
  EXPECT_FALSE(flag("VM", copied, "is_default_template"));
  EXPECT_FALSE(field("VM", copied, "other_config").find("default_template"));
}

TEST_F(Templates, CloneCopiesDisksSharesCdsAndMakesNewMacs) {
  Rich r = new_rich();
  const size_t vdis = count("VDI");
  std::string c = h.ok("VM.clone", {Value(r.vm), Value("clone")}).str();
  EXPECT_FALSE(flag("VM", c, "is_a_template"));
  EXPECT_EQ(count("VDI"), vdis + 2) << "two disks cloned, CDs shared";
  EXPECT_NE(field("VM", c, "other_config").find("mac_seed")->str(), "c0ffee00-0000-4000-8000-000000000000")
      << "a new VM has its own MAC seed";
  expect_devices_copied(r, c, true, false);
  std::string new_disk0 = str("VBD", vbds_of(c)["0"], "VDI");
  EXPECT_EQ(read_at(path_of(new_disk0), kMiB, data.size()), data);
  EXPECT_EQ(set_of(field("VDI", r.iso, "VBDs")).size(), 2u);
  // The clone runs on its own disks, alongside the source.
  start(c);
  start(r.vm);
  EXPECT_EQ(power(c), "Running");
}

TEST_F(Templates, CopyMakesFullCopiesInTheGivenSr) {
  Rich r = new_rich();
  const size_t vdis = count("VDI");
  std::string c = h.ok("VM.copy", {Value(r.vm), Value("copy"), Value(sr())}).str();
  EXPECT_EQ(count("VDI"), vdis + 2);
  expect_devices_copied(r, c, true, false);
  for (const auto& [dev, vbd] : vbds_of(c))
    if (str("VBD", vbd, "type") == "Disk") EXPECT_EQ(str("VDI", str("VBD", vbd, "VDI"), "SR"), sr());
  EXPECT_EQ(read_at(path_of(str("VBD", vbds_of(c)["0"], "VDI")), kMiB, data.size()), data);
}

TEST_F(Templates, CloneAndCopyNeedAHaltedVm) {
  Rich r = new_rich();
  start(r.vm);
  EXPECT_EQ(h.fail("VM.clone", {Value(r.vm), Value("c")}), (Strings{"VM_BAD_POWER_STATE", r.vm, "halted", "running"}));
  EXPECT_EQ(h.fail("VM.copy", {Value(r.vm), Value("c"), Value(kNull)}),
            (Strings{"VM_BAD_POWER_STATE", r.vm, "halted", "running"}));
  h.ok("VM.suspend", {Value(r.vm)});
  EXPECT_EQ(h.fail("VM.clone", {Value(r.vm), Value("c")}), (Strings{"VM_BAD_POWER_STATE", r.vm, "halted", "suspended"}));
}

TEST_F(Templates, FailedCloneLeavesNothingBehind) {
  Rich r = new_rich();
  // The second disk's volume vanished: the first one's copy must be undone.
  fs::remove(path_of(r.disk1));
  const size_t vdis = count("VDI"), vms = count("VM"), files = files_in_sr();
  Strings e = h.fail("VM.clone", {Value(r.vm), Value("doomed")});
  ASSERT_FALSE(e.empty());
  EXPECT_EQ(e[0], "INTERNAL_ERROR");
  EXPECT_EQ(count("VDI"), vdis);
  EXPECT_EQ(count("VM"), vms);
  EXPECT_EQ(files_in_sr(), files);
  EXPECT_EQ(h.ok("VM.get_by_name_label", {Value("doomed")}).arr().size(), 0u);
  EXPECT_EQ(current_ops("VM", r.vm), 0u);
  EXPECT_EQ(allowed("VM", r.vm).count("clone"), 1u);
}

// ---------------------------------------------------------------- snapshot, checkpoint, revert

TEST_F(Templates, SnapshotOfAHaltedVm) {
  Rich r = new_rich();
  Value src = record("VM", r.vm);
  const int64_t before = std::time(nullptr);
  std::string s = h.ok("VM.snapshot", {Value(r.vm), Value("before upgrade")}).str();
  Value rec = record("VM", s);
  EXPECT_TRUE(rec.find("is_a_snapshot")->boolean());
  EXPECT_TRUE(rec.find("is_a_template")->boolean());
  EXPECT_EQ(rec.find("snapshot_of")->str(), r.vm);
  EXPECT_GE(rec.find("snapshot_time")->datetime().seconds, before - 1);
  EXPECT_EQ(rec.find("power_state")->str(), "Halted");
  EXPECT_EQ(strings_of(field("VM", r.vm, "snapshots")), Strings{s});
  ASSERT_TRUE(rec.find("other_config")->find("mac_seed"));
  EXPECT_EQ(rec.find("other_config")->find("mac_seed")->str(), "c0ffee00-0000-4000-8000-000000000000")
      << "a snapshot describes the same VM";
  expect_devices_copied(r, s, true, true);
  // Disk snapshots: read-only, snapshot_of their disk.
  for (const auto& [dev, vbd] : vbds_of(s)) {
    if (str("VBD", vbd, "type") != "Disk") continue;
    std::string vdi = str("VBD", vbd, "VDI");
    EXPECT_TRUE(flag("VDI", vdi, "is_a_snapshot"));
    EXPECT_TRUE(flag("VDI", vdi, "read_only"));
    EXPECT_EQ(str("VDI", vdi, "snapshot_of"), str("VBD", vbds_of(r.vm)[dev], "VDI"));
  }
  // A clone of the snapshot is a new (template) VM with writable disks.
  std::string c = h.ok("VM.clone", {Value(s), Value("from snapshot")}).str();
  EXPECT_FALSE(flag("VM", c, "is_a_snapshot"));
  EXPECT_EQ(str("VM", c, "snapshot_of"), kNull);
  for (const auto& [dev, vbd] : vbds_of(c))
    if (str("VBD", vbd, "type") == "Disk") EXPECT_FALSE(flag("VDI", str("VBD", vbd, "VDI"), "read_only"));
}

TEST_F(Templates, SnapshotOfARunningVmIgnoringADisk) {
  Rich r = new_rich();
  start(r.vm);
  const size_t vdis = count("VDI");
  std::string s = h.ok("VM.snapshot", {Value(r.vm), Value("live"), string_array({r.disk1})}).str();
  EXPECT_EQ(power(r.vm), "Running") << "the VM keeps running";
  EXPECT_EQ(current_ops("VM", r.vm), 0u);
  EXPECT_EQ(power(s), "Halted");
  EXPECT_EQ(count("VDI"), vdis + 1) << "only disk 0 snapshotted";
  auto vbds = vbds_of(s);
  EXPECT_FALSE(vbds.count("1"));
  EXPECT_TRUE(vbds.count("0"));
  EXPECT_TRUE(vbds.count("3"));
}

TEST_F(Templates, CheckpointKeepsTheMemoryImage) {
  Rich r = new_rich();
  EXPECT_EQ(h.fail("VM.checkpoint", {Value(r.vm), Value("cp")}),
            (Strings{"VM_BAD_POWER_STATE", r.vm, "running, paused, suspended", "halted"}));
  start(r.vm);
  std::string cp = h.ok("VM.checkpoint", {Value(r.vm), Value("cp")}).str();
  EXPECT_EQ(power(r.vm), "Running");
  EXPECT_TRUE(flag("VM", cp, "is_a_snapshot"));
  EXPECT_EQ(power(cp), "Suspended");
  std::string image = str("VM", cp, "suspend_VDI");
  ASSERT_NE(image, kNull);
  EXPECT_EQ(num("VDI", image, "virtual_size"), kGiB);
  EXPECT_TRUE(fs::exists(path_of(image)));
}

TEST_F(Templates, RevertRestoresConfigurationAndDisks) {
  Rich r = new_rich();
  std::string s = h.ok("VM.snapshot", {Value(r.vm), Value("good")}).str();
  const std::string old_disk0 = r.disk0;
  const std::string old_path = path_of(old_disk0);
  // Changes after the snapshot: configuration, data, and the VM runs.
  h.ok("VM.set_memory", {Value(r.vm), Value(2 * kGiB)});
  h.ok("VM.set_PV_args", {Value(r.vm), Value("changed")});
  write_at(old_path, kMiB, std::string(data.size(), 'x'));
  start(r.vm);
  const size_t vdis = count("VDI");

  h.ok("VM.revert", {Value(s)});
  EXPECT_EQ(power(r.vm), "Halted");
  expect_devices_copied(Rich{s, "", "", r.iso}, r.vm, true, true);
  EXPECT_EQ(num("VM", r.vm, "memory_static_max"), kGiB);
  EXPECT_EQ(num("VM", r.vm, "memory_dynamic_max"), kGiB);
  EXPECT_EQ(str("VM", r.vm, "PV_args"), str("VM", s, "PV_args"));
  EXPECT_EQ(str("VM", r.vm, "name_label"), "rich");
  EXPECT_FALSE(flag("VM", r.vm, "is_a_template"));
  EXPECT_FALSE(flag("VM", r.vm, "is_a_snapshot")) << "the VM stays a VM";
  EXPECT_EQ(str("VM", r.vm, "snapshot_of"), kNull);
  EXPECT_EQ(strings_of(field("VM", r.vm, "snapshots")), Strings{s});
  // The disks are fresh clones of the snapshot's; the old ones are gone.
  std::string disk0 = str("VBD", vbds_of(r.vm)["0"], "VDI");
  EXPECT_NE(disk0, old_disk0);
  EXPECT_FALSE(flag("VDI", disk0, "read_only"));
  EXPECT_EQ(read_at(path_of(disk0), kMiB, data.size()), data);
  EXPECT_EQ(h.fail("VDI.get_record", {Value(old_disk0)}), (Strings{"HANDLE_INVALID", "VDI", old_disk0}));
  EXPECT_FALSE(fs::exists(old_path));
  EXPECT_EQ(count("VDI"), vdis);
  EXPECT_EQ(str("VBD", vbds_of(r.vm)["3"], "VDI"), r.iso);
  EXPECT_EQ(host_free(), h.backend().free_memory());
  EXPECT_EQ(current_ops("VM", r.vm), 0u);
  EXPECT_EQ(allowed("VM", r.vm).count("start"), 1u);
  // The snapshot is still there, and the VM starts from the restored disks.
  EXPECT_TRUE(flag("VM", s, "is_a_snapshot"));
  start(r.vm);
}

TEST_F(Templates, RevertToACheckpointResumesIntoItsMemory) {
  Rich r = new_rich();
  start(r.vm);
  std::string cp = h.ok("VM.checkpoint", {Value(r.vm), Value("cp")}).str();
  h.ok("VM.hard_shutdown", {Value(r.vm)});
  h.ok("VM.revert", {Value(cp)});
  EXPECT_EQ(power(r.vm), "Suspended");
  std::string image = str("VM", r.vm, "suspend_VDI");
  ASSERT_NE(image, kNull);
  EXPECT_NE(image, str("VM", cp, "suspend_VDI"));
  h.ok("VM.resume", {Value(r.vm), Value(false), Value(false)});
  EXPECT_EQ(power(r.vm), "Running");
}

// ---------------------------------------------------------------- provision

TEST_F(Templates, ProvisionCreatesTheDescribedDisksAndConsumesTheKey) {
  std::string c = h.ok("VM.clone", {Value(debian()), Value("new debian")}).str();
  const size_t vdis = count("VDI");
  h.ok("VM.provision", {Value(c)});
  EXPECT_FALSE(field("VM", c, "other_config").find("disks"));
  auto vbds = vbds_of(c);
  ASSERT_EQ(vbds.size(), 1u);
  ASSERT_TRUE(vbds.count("0"));
  const std::string vbd = vbds["0"];
  EXPECT_TRUE(flag("VBD", vbd, "bootable"));
  EXPECT_EQ(str("VBD", vbd, "type"), "Disk");
  EXPECT_EQ(str("VBD", vbd, "mode"), "RW");
  std::string vdi = str("VBD", vbd, "VDI");
  EXPECT_EQ(num("VDI", vdi, "virtual_size"), 10 * kGiB);
  EXPECT_EQ(str("VDI", vdi, "type"), "system");
  EXPECT_EQ(str("VDI", vdi, "SR"), sr());
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(path_of(vdi))), 10 * kGiB);
  EXPECT_EQ(count("VDI"), vdis + 1);
  // Provisioned once: a second call adds nothing.
  h.ok("VM.provision", {Value(c)});
  EXPECT_EQ(count("VDI"), vdis + 1);
  // The template is untouched.
  EXPECT_TRUE(field("VM", debian(), "other_config").find("disks"));
  EXPECT_TRUE(field("VM", debian(), "VBDs").arr().empty());
}

TEST_F(Templates, ProvisionReadsSizesDevicesBootableAndSr) {
  std::string c = h.ok("VM.clone", {Value(debian()), Value("two disks")}).str();
  const std::string sr_uuid = str("SR", sr(), "uuid");
  h.ok("VM.remove_from_other_config", {Value(c), Value("disks")});
  h.ok("VM.add_to_other_config",
       {Value(c), Value("disks"),
        Value("<provision><disk device=\"0\" size=\"" + std::to_string(2 * kGiB) + "\" sr=\"" + sr_uuid +
              "\" bootable=\"true\" type=\"system\"/><disk device=\"2\" size=\"" + std::to_string(512 * kMiB) +
              "\" sr=\"\" bootable=\"false\" type=\"user\"/></provision>")});
  h.ok("VM.provision", {Value(c)});
  auto vbds = vbds_of(c);
  ASSERT_EQ(vbds.size(), 2u);
  ASSERT_TRUE(vbds.count("0") && vbds.count("2"));
  EXPECT_TRUE(flag("VBD", vbds["0"], "bootable"));
  EXPECT_FALSE(flag("VBD", vbds["2"], "bootable"));
  EXPECT_EQ(num("VDI", str("VBD", vbds["0"], "VDI"), "virtual_size"), 2 * kGiB);
  EXPECT_EQ(num("VDI", str("VBD", vbds["2"], "VDI"), "virtual_size"), 512 * kMiB);
  EXPECT_EQ(str("VDI", str("VBD", vbds["2"], "VDI"), "type"), "user");
}

TEST_F(Templates, ProvisionErrors) {
  std::string vm = new_vm();
  EXPECT_EQ(h.fail("VM.provision", {Value(vm)}), (Strings{"PROVISION_ONLY_ALLOWED_ON_TEMPLATE"}));
  std::string c = h.ok("VM.clone", {Value(debian()), Value("bad sr")}).str();
  h.ok("VM.remove_from_other_config", {Value(c), Value("disks")});
  h.ok("VM.add_to_other_config",
       {Value(c), Value("disks"), Value("<provision><disk device=\"0\" size=\"1024\" sr=\"no-such-sr\"/></provision>")});
  const size_t vdis = count("VDI");
  EXPECT_EQ(h.fail("VM.provision", {Value(c)}), (Strings{"UUID_INVALID", "SR", "no-such-sr"}));
  EXPECT_EQ(count("VDI"), vdis);
  EXPECT_TRUE(field("VM", c, "other_config").find("disks")) << "nothing consumed";
  EXPECT_EQ(current_ops("VM", c), 0u);
}

TEST_F(Templates, InstallFlow) {
  // Clone a default template, provision, make it a VM, add a NIC, start.
  std::string vm = h.ok("VM.clone", {Value(debian()), Value("installed")}).str();
  h.ok("VM.provision", {Value(vm)});
  h.ok("VM.set_is_a_template", {Value(vm), Value(false)});
  EXPECT_EQ(allowed("VM", vm).count("start"), 1u);
  std::string vif = add_vif(vm, "0");
  start(vm);
  EXPECT_EQ(power(vm), "Running");
  EXPECT_TRUE(flag("VIF", vif, "currently_attached"));
  auto vbds = vbds_of(vm);
  EXPECT_TRUE(flag("VBD", vbds["0"], "currently_attached"));
  EXPECT_EQ(str("VBD", vbds["0"], "device"), "xvda");
  h.ok("VM.clean_shutdown", {Value(vm)});
  EXPECT_EQ(power(vm), "Halted");
}

TEST_F(Templates, EveryDefaultTemplateInstallsAndStarts) {
  Value all = h.ok("VM.get_all_records");
  size_t templates = 0;
  std::set<std::string> kinds;
  for (const auto& [ref, rec] : all.map()) {
    if (!rec.find("is_default_template")->boolean()) continue;
    const std::string name = rec.find("name_label")->str();
    SCOPED_TRACE(name);
    ++templates;
    EXPECT_TRUE(rec.find("is_a_template")->boolean());
    EXPECT_EQ(rec.find("other_config")->find("default_template")->str(), "true");
    EXPECT_FALSE(rec.find("reference_label")->str().empty());
    kinds.insert(rec.find("other_config")->find("linux_template") ? "linux" : "other");
    // The install flow: clone, provision, make it a VM, add a NIC, start.
    std::string vm = h.ok("VM.clone", {Value(ref.str()), Value("installed " + name)}).str();
    const Value* disks = rec.find("other_config")->find("disks");
    h.ok("VM.provision", {Value(vm)});
    EXPECT_EQ(vbds_of(vm).size(), disks ? 1u : 0u);
    h.ok("VM.set_is_a_template", {Value(vm), Value(false)});
    add_vif(vm, "0");
    start(vm);
    EXPECT_EQ(power(vm), "Running");
    EXPECT_EQ(metrics(vm).find("memory_actual")->integer(), num("VM", vm, "memory_dynamic_max"));
    h.ok("VM.hard_shutdown", {Value(vm)});
  }
  EXPECT_GE(templates, 5u);
  EXPECT_EQ(kinds, (std::set<std::string>{"linux", "other"})) << "Linux and other (Windows, install media) guests";
}

// ---------------------------------------------------------------- parent, snapshot_info, inherited fields

TEST_F(Templates, ParentTracesTheSnapshotHistory) {
  Rich r = new_rich();
  EXPECT_EQ(str("VM", r.vm, "parent"), kNull);
  // A clone or a copy is a new top-level VM, whatever it was made from.
  std::string c = h.ok("VM.clone", {Value(r.vm), Value("clone")}).str();
  std::string k = h.ok("VM.copy", {Value(r.vm), Value("copy"), Value(kNull)}).str();
  EXPECT_EQ(str("VM", c, "parent"), kNull);
  EXPECT_EQ(str("VM", k, "parent"), kNull);
  EXPECT_EQ(str("VM", r.vm, "parent"), kNull) << "cloning is not a snapshot";
  // Each snapshot's parent is the one before it; the VM's is the latest.
  std::string s1 = h.ok("VM.snapshot", {Value(r.vm), Value("s1")}).str();
  EXPECT_EQ(str("VM", s1, "parent"), kNull);
  EXPECT_EQ(str("VM", r.vm, "parent"), s1);
  EXPECT_EQ(strings_of(field("VM", s1, "children")), Strings{r.vm});
  start(r.vm);
  std::string s2 = h.ok("VM.checkpoint", {Value(r.vm), Value("s2")}).str();
  EXPECT_EQ(str("VM", s2, "parent"), s1);
  EXPECT_EQ(str("VM", r.vm, "parent"), s2);
  EXPECT_EQ(strings_of(field("VM", s1, "children")), Strings{s2});
  EXPECT_EQ(set_of(field("VM", r.vm, "snapshots")), (StringSet{s1, s2}));
  // After a revert the VM continues from the snapshot it went back to.
  h.ok("VM.revert", {Value(s1)});
  EXPECT_EQ(str("VM", r.vm, "parent"), s1);
  EXPECT_EQ(set_of(field("VM", s1, "children")), (StringSet{s2, r.vm}));
  std::string s3 = h.ok("VM.snapshot", {Value(r.vm), Value("s3")}).str();
  EXPECT_EQ(str("VM", s3, "parent"), s1);
  EXPECT_EQ(str("VM", r.vm, "parent"), s3);
  // A clone of a snapshot starts a history of its own.
  std::string from_snap = h.ok("VM.clone", {Value(s3), Value("from s3")}).str();
  EXPECT_EQ(str("VM", from_snap, "parent"), kNull);
}

TEST_F(Templates, SnapshotInfoAndWhatANewVmDoesNotInherit) {
  Rich r = new_rich();
  h.ok("VM.add_to_blocked_operations", {Value(r.vm), Value("start"), Value("keep it down")});
  h.ok("VM.set_order", {Value(r.vm), Value(int64_t{3})});
  h.ok("VM.set_start_delay", {Value(r.vm), Value(int64_t{30})});
  std::string s = h.ok("VM.snapshot", {Value(r.vm), Value("s")}).str();
  Value info = field("VM", s, "snapshot_info");
  ASSERT_TRUE(info.find("power-state-at-snapshot"));
  EXPECT_EQ(info.find("power-state-at-snapshot")->str(), "Halted");
  EXPECT_EQ(info.find("disk-snapshot-type")->str(), "crash_consistent");
  std::string c = h.ok("VM.clone", {Value(r.vm), Value("c")}).str();
  EXPECT_TRUE(field("VM", c, "snapshot_info").map().empty()) << "only snapshots have snapshot_info";
  for (const auto& made : {s, c}) {
    EXPECT_TRUE(field("VM", made, "blocked_operations").map().empty()) << made;
    EXPECT_EQ(num("VM", made, "order"), 0) << made;
    EXPECT_EQ(num("VM", made, "start_delay"), 0) << made;
  }
  EXPECT_EQ(field("VM", r.vm, "blocked_operations").map().size(), 1u) << "the source keeps its own";
  // A VM made from a template remembers the template's name.
  std::string from_template = h.ok("VM.clone", {Value(debian()), Value("mine")}).str();
  ASSERT_TRUE(field("VM", from_template, "other_config").find("base_template_name"));
  EXPECT_EQ(field("VM", from_template, "other_config").find("base_template_name")->str(), "Debian Bookworm 12");
  std::string again = h.ok("VM.clone", {Value(from_template), Value("mine again")}).str();
  EXPECT_EQ(field("VM", again, "other_config").find("base_template_name")->str(), "Debian Bookworm 12");
  EXPECT_FALSE(field("VM", c, "other_config").find("base_template_name")) << "r.vm is no template";
  // A snapshot of a running VM says so.
  h.ok("VM.remove_from_blocked_operations", {Value(r.vm), Value("start")});
  start(r.vm);
  std::string live = h.ok("VM.snapshot", {Value(r.vm), Value("live")}).str();
  EXPECT_EQ(field("VM", live, "snapshot_info").find("power-state-at-snapshot")->str(), "Running");
}

TEST_F(Templates, CloneOfACheckpointKeepsItsOwnMemoryImage) {
  Rich r = new_rich();
  start(r.vm);
  std::string cp = h.ok("VM.checkpoint", {Value(r.vm), Value("cp")}).str();
  const std::string cp_image = str("VM", cp, "suspend_VDI");
  const size_t vdis = count("VDI");
  std::string c = h.ok("VM.clone", {Value(cp), Value("from checkpoint")}).str();
  EXPECT_EQ(power(c), "Suspended");
  std::string image = str("VM", c, "suspend_VDI");
  ASSERT_NE(image, kNull);
  EXPECT_NE(image, cp_image) << "an image of its own";
  EXPECT_EQ(count("VDI"), vdis + 3) << "two disks and the image";
  EXPECT_EQ(num("VDI", image, "virtual_size"), num("VDI", cp_image, "virtual_size"));
  // It resumes once it is made a VM; the source VM keeps running meanwhile.
  h.ok("VM.set_is_a_template", {Value(c), Value(false)});
  h.ok("VM.hard_shutdown", {Value(r.vm)});
  h.ok("VM.resume", {Value(c), Value(false), Value(false)});
  EXPECT_EQ(power(c), "Running");
  EXPECT_EQ(h.fail("VDI.get_record", {Value(image)})[0], "HANDLE_INVALID") << "resume consumed the image";
  EXPECT_EQ(str("VM", cp, "suspend_VDI"), cp_image) << "the checkpoint keeps its own";
  // A snapshot of a suspended VM is a halted snapshot (disks only).
  std::string vm2 = h.ok("VM.clone", {Value(cp), Value("second")}).str();
  h.ok("VM.set_is_a_template", {Value(vm2), Value(false)});
  std::string snap = h.ok("VM.snapshot", {Value(vm2), Value("of suspended")}).str();
  EXPECT_EQ(power(snap), "Halted");
  EXPECT_EQ(str("VM", snap, "suspend_VDI"), kNull);
  EXPECT_EQ(field("VM", snap, "snapshot_info").find("power-state-at-snapshot")->str(), "Suspended");
}

// ---------------------------------------------------------------- revert

TEST_F(Templates, RevertRestoresTheSnapshotsVifsAndLeavesNewerDisks) {
  Rich r = new_rich();
  std::map<std::string, std::string> macs;  // device -> MAC at snapshot time
  for (const auto& [dev, vif] : vifs_of(r.vm)) macs[dev] = str("VIF", vif, "MAC");
  std::string s = h.ok("VM.snapshot", {Value(r.vm), Value("s")}).str();
  // After the snapshot: one NIC goes, another comes, a disk is added.
  h.ok("VIF.destroy", {Value(vifs_of(r.vm)["1"])});
  add_vif(r.vm, "5");
  std::string later_vbd = add_disk(r.vm, "2", 16 * kMiB);
  std::string later_disk = str("VBD", later_vbd, "VDI");
  start(r.vm);

  h.ok("VM.revert", {Value(s)});
  EXPECT_EQ(power(r.vm), "Halted");
  auto vifs = vifs_of(r.vm);
  ASSERT_EQ(vifs.size(), 2u);
  ASSERT_TRUE(vifs.count("0") && vifs.count("1"));
  for (const auto& [dev, vif] : vifs) {
    EXPECT_EQ(str("VIF", vif, "MAC"), macs[dev]) << "the snapshot's MAC for NIC " << dev;
    EXPECT_EQ(str("VIF", vif, "network"), network());
    EXPECT_FALSE(flag("VIF", vif, "currently_attached"));
  }
  // The disk added later is not part of the snapshot: it stays, detached.
  EXPECT_EQ(vbds_of(r.vm).count("2"), 0u);
  EXPECT_EQ(num("VDI", later_disk, "virtual_size"), 16 * kMiB);
  EXPECT_TRUE(field("VDI", later_disk, "VBDs").arr().empty());
  // The snapshot's disks now describe the VM's new disks.
  for (const auto& [dev, vbd] : vbds_of(s)) {
    if (str("VBD", vbd, "type") != "Disk") continue;
    EXPECT_EQ(str("VDI", str("VBD", vbd, "VDI"), "snapshot_of"), str("VBD", vbds_of(r.vm)[dev], "VDI")) << dev;
  }
  // Reverting again gives the same devices.
  h.ok("VM.revert", {Value(s)});
  EXPECT_EQ(vifs_of(r.vm).size(), 2u);
  EXPECT_EQ(vbds_of(r.vm).size(), vbds_of(s).size());
  start(r.vm);
  EXPECT_EQ(power(r.vm), "Running");
}

TEST_F(Templates, RevertGuardsTheSnapshotAndItsVm) {
  Rich r = new_rich();
  std::string s = h.ok("VM.snapshot", {Value(r.vm), Value("s")}).str();
  // Only snapshots revert; templates are refused as templates first.
  EXPECT_EQ(h.fail("VM.revert", {Value(r.vm)}), Strings{"REVERT_ONLY_ALLOWED_ON_SNAPSHOT"});
  EXPECT_EQ(h.fail("VM.revert", {Value(debian())}), (Strings{"VM_IS_TEMPLATE", debian(), "revert"}));
  // The VM is busy: the revert waits its turn.
  const dm::Class& vc = h.store().cls("VM");
  h.store().write([&](Txn& t) {
    t.update(vc, r.vm, [&](Object& o) {
      o.values[vc.field("current_operations")->index].set_member("OpaqueRef:cloning", Value("clone"));
    });
  });
  EXPECT_EQ(h.fail("VM.revert", {Value(s)}), (Strings{"OTHER_OPERATION_IN_PROGRESS", "VM", r.vm, "clone", "OpaqueRef:cloning"}));
  EXPECT_EQ(current_ops("VM", s), 0u) << "the snapshot's guard was released";
  h.store().write([&](Txn& t) { t.set(vc, r.vm, "current_operations", Value::empty_map()); });
  // Blocked on the snapshot.
  h.ok("VM.add_to_blocked_operations", {Value(s), Value("revert"), Value("frozen")});
  EXPECT_EQ(h.fail("VM.revert", {Value(s)}), (Strings{"OPERATION_BLOCKED", s, "frozen"}));
  EXPECT_EQ(allowed("VM", s).count("revert"), 0u);
  h.ok("VM.remove_from_blocked_operations", {Value(s), Value("revert")});
  h.ok("VM.revert", {Value(s)});
  EXPECT_EQ(current_ops("VM", s), 0u);
  EXPECT_EQ(current_ops("VM", r.vm), 0u);
}

TEST_F(Templates, RevertOfASnapshotWhoseVmIsGoneMakesTheVmAgain) {
  Rich r = new_rich();
  std::string s = h.ok("VM.snapshot", {Value(r.vm), Value("survivor")}).str();
  const std::string mac0 = str("VIF", vifs_of(s)["0"], "MAC");
  h.ok("VM.destroy", {Value(r.vm)});
  EXPECT_EQ(str("VM", s, "snapshot_of"), kNull);
  const size_t vms = count("VM");

  h.ok("VM.revert", {Value(s)});
  EXPECT_EQ(count("VM"), vms + 1);
  std::string vm = str("VM", s, "snapshot_of");
  ASSERT_NE(vm, kNull);
  EXPECT_FALSE(flag("VM", vm, "is_a_template"));
  EXPECT_FALSE(flag("VM", vm, "is_a_snapshot"));
  EXPECT_EQ(str("VM", vm, "parent"), s);
  EXPECT_EQ(strings_of(field("VM", vm, "snapshots")), Strings{s});
  EXPECT_EQ(num("VM", vm, "memory_static_max"), num("VM", s, "memory_static_max"));
  EXPECT_EQ(vbds_of(vm).size(), vbds_of(s).size());
  EXPECT_EQ(str("VIF", vifs_of(vm)["0"], "MAC"), mac0);
  EXPECT_EQ(read_at(path_of(str("VBD", vbds_of(vm)["0"], "VDI")), kMiB, data.size()), data);
  start(vm);
  EXPECT_EQ(power(vm), "Running");
}

TEST_F(Templates, FailedRevertLeavesTheVmAsItWas) {
  Rich r = new_rich();
  std::string s = h.ok("VM.snapshot", {Value(r.vm), Value("s")}).str();
  start(r.vm);
  const int64_t domid = num("VM", r.vm, "domid");
  const auto disks_before = vbds_of(r.vm);
  // The snapshot's second disk vanished: its clone cannot be made.
  fs::remove(path_of(str("VBD", vbds_of(s)["1"], "VDI")));
  const size_t vdis = count("VDI"), files = files_in_sr();
  EXPECT_EQ(h.fail("VM.revert", {Value(s)}), (Strings{"VM_REVERT_FAILED", r.vm, s}));
  EXPECT_EQ(power(r.vm), "Running") << "nothing was touched";
  EXPECT_EQ(num("VM", r.vm, "domid"), domid);
  EXPECT_EQ(vbds_of(r.vm), disks_before);
  EXPECT_EQ(count("VDI"), vdis) << "the clones made so far are gone";
  EXPECT_EQ(files_in_sr(), files);
  EXPECT_EQ(current_ops("VM", r.vm), 0u);
  EXPECT_EQ(current_ops("VM", s), 0u);
  EXPECT_EQ(host_free(), h.backend().free_memory());
}

}  // namespace
}  // namespace xenapi::testing
