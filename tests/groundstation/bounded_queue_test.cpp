#include "groundstation/bounded_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace lgs::station {
namespace {

TEST(BoundedQueue, KeepsOrderBelowDepth) {
  BoundedQueue<int> q(4);
  q.Push(1);
  q.Push(2);
  EXPECT_EQ(q.TakeAll(), (std::vector<int>{1, 2}));
  EXPECT_TRUE(q.TakeAll().empty());
  EXPECT_EQ(q.dropped(), 0u);
}

TEST(BoundedQueue, FullQueueDropsOldestAndCounts) {
  BoundedQueue<std::string> q(3);
  for (int i = 0; i < 10; ++i) q.Push(std::to_string(i));
  EXPECT_EQ(q.TakeAll(), (std::vector<std::string>{"7", "8", "9"}));
  EXPECT_EQ(q.dropped(), 7u);
}

}  // namespace
}  // namespace lgs::station
