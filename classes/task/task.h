// Tasks: creation and completion of the task objects behind Async calls,
// cancellation checks, and garbage collection of finished tasks.
#pragma once

#include <string>
#include <vector>

#include "classes/api/call.h"

namespace xenapi {

// A pending task owned by the caller's session.
std::string create_task(Call& c, const std::string& label, const std::string& description, bool cancellable);
// Ends a task: status success/failure/cancelled, progress 1, finished now.
void finish_task(Store& store, const std::string& task, const std::string& status, const std::string& result,
                 const std::vector<std::string>& error);
// Whether the caller asked to cancel the task.
bool cancel_requested(const View& v, const std::string& task);
// Destroys finished tasks older than the retention time and finished tasks
// whose session has logged out; returns how many.
size_t collect_tasks(Store& store, int64_t retention_seconds);

}  // namespace xenapi
