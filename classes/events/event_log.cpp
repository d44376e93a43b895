// Change log: appending on commit, coalescing on read, trimming.
#include "classes/events/event_log.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <unordered_map>

#include "classes/errors.h"

namespace xenapi {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* operation_name(ChangeKind k) {
  switch (k) {
    case ChangeKind::Add: return "add";
    case ChangeKind::Mod: return "mod";
    case ChangeKind::Del: return "del";
  }
  return "?";
}

std::string timestamp_text(double seconds) {
  if (seconds <= 0) return "0.0";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6f", seconds);
  return buf;
}

Value batch_value(const EventBatch& b, bool list_only) {
  Array events;
  for (const auto& e : b.events) {
    Map m;
    m.emplace_back(Value("id"), Value(std::to_string(e.id)));
    m.emplace_back(Value("timestamp"), Value(timestamp_text(e.timestamp)));
    m.emplace_back(Value("class"), Value(e.cls->lower_name));
    m.emplace_back(Value("operation"), Value(operation_name(e.op)));
    m.emplace_back(Value("ref"), Value(e.ref));
    if (e.snapshot) {
      Map rec;
      for (uint16_t i : e.cls->published) rec.emplace_back(Value(e.cls->fields[i].name), e.snapshot->values[i]);
      m.emplace_back(Value("snapshot"), Value(std::move(rec)));
    }
    events.emplace_back(std::move(m));
  }
  if (list_only) return Value(std::move(events));
  Map counts;
  for (const auto& [c, n] : b.counts) counts.emplace_back(Value(c), Value(n));
  Map out;
  out.emplace_back(Value("events"), Value(std::move(events)));
  out.emplace_back(Value("valid_ref_counts"), Value(std::move(counts)));
  out.emplace_back(Value("token"), Value(b.token));
  return Value(std::move(out));
}

// ---------------------------------------------------------------- Subscription

bool Subscription::matches(const dm::Class& c, const std::string& ref) const {
  if (all) return true;
  if (classes.count(&c)) return true;
  return !objects.empty() && objects.count({&c, ref});
}

void Subscription::add(const Subscription& o) {
  all = all || o.all;
  classes.insert(o.classes.begin(), o.classes.end());
  objects.insert(o.objects.begin(), o.objects.end());
}

void Subscription::remove(const Subscription& o) {
  if (o.all) {
    *this = Subscription{};
    return;
  }
  for (const auto* c : o.classes) classes.erase(c);
  for (const auto& x : o.objects) objects.erase(x);
}

Subscription Subscription::parse(const dm::Datamodel& model, const std::vector<std::string>& entries) {
  Subscription s;
  for (const auto& e : entries) {
    if (e == "*") {
      s.all = true;
      continue;
    }
    size_t slash = e.find('/');
    std::string name = e.substr(0, slash);
    if (name.empty() || (slash != std::string::npos && (slash + 1 == e.size() || e.find('/', slash + 1) != std::string::npos)))
      throw err::EVENT_SUBSCRIPTION_PARSE_FAILURE(e);
    const dm::Class* c = model.cls_nocase(name);
    if (!c || !c->db_class || !c->events) continue;  // nothing of that class ever changes
    if (slash == std::string::npos) s.classes.insert(c);
    else s.objects.emplace(c, e.substr(slash + 1));
  }
  return s;
}

// ---------------------------------------------------------------- EventLog

EventLog::EventLog(Store& store, size_t max_entries)
    : store_(store), max_entries_(std::max<size_t>(1, max_entries)), epoch_(static_cast<uint64_t>(wall_us())) {
  store_.add_observer([this](const Commit& c) { on_commit(c); });
}

void EventLog::on_commit(const Commit& c) {
  int64_t now = -1;
  for (const auto& ch : c.changes) {
    if (!ch.cls->events) continue;
    if (now < 0) now = wall_us();
    entries_.push_back(
        Entry{c.generation, ch.cls, ch.ref, ch.kind, ch.object ? ch.object->created : c.generation, now});
  }
  while (entries_.size() > max_entries_) {
    const Entry& e = entries_.front();
    horizon_ = e.gen;
    class_horizon_[e.cls] = e.gen;
    entries_.pop_front();
  }
}

std::string EventLog::token(uint64_t generation) const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%020llu,%020llu", static_cast<unsigned long long>(generation),
                static_cast<unsigned long long>(epoch_));
  return buf;
}

std::optional<uint64_t> EventLog::parse_token(const std::string& token) const {
  if (token.empty()) return std::nullopt;
  size_t comma = token.find(',');
  std::string gen = token.substr(0, comma);
  std::string epoch = comma == std::string::npos ? std::string() : token.substr(comma + 1);
  // 20 digits hold any uint64 up to 99999999999999999999 > 2^64: check the range too.
  auto fits = [](const std::string& s) {
    return all_digits(s) && (s.size() < 20 || (s.size() == 20 && s <= "18446744073709551615"));
  };
  if (!fits(gen) || (comma != std::string::npos && !fits(epoch))) throw err::EVENT_FROM_TOKEN_PARSE_FAILURE(token);
  if (!epoch.empty() && std::stoull(epoch) != epoch_) throw err::EVENTS_LOST();
  return std::stoull(gen);
}

uint64_t EventLog::horizon(const Subscription& sub) const {
  if (sub.all) return horizon_;
  uint64_t h = 0;
  auto of = [&](const dm::Class* c) {
    auto it = class_horizon_.find(c);
    if (it != class_horizon_.end()) h = std::max(h, it->second);
  };
  for (const auto* c : sub.classes) of(c);
  for (const auto& [c, ref] : sub.objects) of(c);
  return h;
}

bool EventLog::pending(const Subscription& sub, uint64_t since) const {
  if (since < horizon(sub)) return true;
  for (auto it = entries_.rbegin(); it != entries_.rend() && it->gen > since; ++it)
    if (sub.matches(*it->cls, it->ref)) return true;
  return false;
}

EventBatch EventLog::collect(const View& v, const Subscription& sub, std::optional<uint64_t> since,
                             bool timestamps) const {
  EventBatch batch;
  const uint64_t now = v.generation();
  if (!since) {
    for (const auto& c : v.model().classes()) {
      if (!c->db_class || !c->events) continue;
      if (sub.all || sub.classes.count(c.get())) {
        for (const auto& o : v.all(*c)) batch.events.push_back(Event{o->modified, c.get(), o->ref, ChangeKind::Add, o});
      }
    }
    for (const auto& [c, ref] : sub.objects) {
      if (sub.all || sub.classes.count(c)) continue;
      if (ObjectPtr o = v.get(*c, ref)) batch.events.push_back(Event{o->modified, c, o->ref, ChangeKind::Add, o});
    }
  } else {
    if (*since < horizon(sub)) throw err::EVENTS_LOST();
    struct Agg {
      const dm::Class* cls;
      const std::string* ref;
      ChangeKind kind;
      uint64_t created;
      uint64_t gen;
      int64_t time_us;
    };
    std::vector<Agg> aggs;
    std::unordered_map<std::string_view, size_t> index;
    auto first = std::upper_bound(entries_.begin(), entries_.end(), *since,
                                  [](uint64_t g, const Entry& e) { return g < e.gen; });
    for (auto it = first; it != entries_.end() && it->gen <= now; ++it) {
      if (!sub.matches(*it->cls, it->ref)) continue;
      auto [pos, fresh] = index.emplace(std::string_view(it->ref), aggs.size());
      if (fresh) {
        aggs.push_back(Agg{it->cls, &it->ref, it->kind, it->created, it->gen, it->time_us});
      } else {
        Agg& a = aggs[pos->second];
        // A ref destroyed and created again: the later life decides.
        if (a.kind == ChangeKind::Del && it->kind == ChangeKind::Add && a.created <= *since) a.kind = ChangeKind::Mod;
        else a.kind = it->kind;
        if (it->kind == ChangeKind::Add && a.created > *since) a.created = it->created;
        a.gen = it->gen;
        a.time_us = it->time_us;
      }
    }
    for (const auto& a : aggs) {
      const bool created_in_window = a.created > *since;
      const double ts = timestamps ? static_cast<double>(a.time_us) / 1e6 : 0.0;
      if (a.kind == ChangeKind::Del) {
        if (!created_in_window) batch.events.push_back(Event{a.gen, a.cls, *a.ref, ChangeKind::Del, nullptr, ts});
        continue;
      }
      ObjectPtr o = v.get(*a.cls, *a.ref);
      if (!o) continue;
      batch.events.push_back(
          Event{a.gen, a.cls, *a.ref, created_in_window ? ChangeKind::Add : ChangeKind::Mod, std::move(o), ts});
    }
    std::stable_sort(batch.events.begin(), batch.events.end(),
                     [](const Event& a, const Event& b) { return a.id < b.id; });
  }
  for (const auto& c : v.model().classes())
    if (c->db_class && !c->life.is_removed())
      batch.counts.emplace_back(std::string_view(c->lower_name), static_cast<int64_t>(v.count(*c)));
  batch.token = token(now);
  batch.generation = now;
  return batch;
}

}  // namespace xenapi
