// StopSignals: SIGINT and SIGTERM for a program's main(), taken by one thread of their own, so
// that a signal never lands in a worker thread (where it would interrupt ZeroMQ calls with
// EINTR mid-message). Construct it before starting any worker: it blocks both signals in the
// calling thread, which every thread created after inherits. `on_signal` runs on the signal
// thread, once, for the first signal; it must be thread-safe (Station::Stop, Emulator::Stop).
// The destructor stops the signal thread. Not copyable; use from main() only.
#pragma once

#include <pthread.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <functional>
#include <thread>

namespace lgs::cli {

class StopSignals {
 public:
  explicit StopSignals(std::function<void(int signal)> on_signal) : signals_(io_, SIGINT, SIGTERM) {
    signals_.async_wait(
        [on_signal = std::move(on_signal)](const boost::system::error_code& ec, int signal) {
          if (!ec) on_signal(signal);
        });
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    thread_ = std::thread([this, stop] {
      pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
      io_.run();
    });
  }
  ~StopSignals() {
    io_.stop();
    thread_.join();
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  static const char* Name(int signal) { return signal == SIGINT ? "SIGINT" : "SIGTERM"; }

 private:
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  std::thread thread_;
};

}  // namespace lgs::cli
