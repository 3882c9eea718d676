package dev.anvil.core.train;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The calling thread plus {@code size - 1} daemon threads that run a round's phases together. Task
 * i runs on member {@code i mod size} (member 0 is the caller). Between phases a round leaves a
 * member idle for microseconds, so members spin briefly before they park: waking a parked thread
 * costs tens of microseconds on a virtual machine, as much as a small phase. Close it to stop the
 * threads.
 */
final class Crew implements Parallel, AutoCloseable {
  private static final long SPIN_NANOS = 200_000;

  private final int size;
  private final Thread[] members;
  private final AtomicLong generation = new AtomicLong();
  private final AtomicInteger pending = new AtomicInteger();
  private volatile IntConsumer task;
  private volatile int tasks;
  private volatile RuntimeException failure;
  private volatile boolean closed;

  Crew(int size, String name) {
    this.size = size;
    this.members = new Thread[size - 1];
    for (int m = 1; m < size; m++) {
      int member = m;
      Thread t = new Thread(() -> serve(member), name + "-" + m);
      t.setDaemon(true);
      members[m - 1] = t;
      t.start();
    }
  }

  @Override
  public int width() {
    return size;
  }

  @Override
  public void forEach(int count, IntConsumer work) {
    if (size == 1 || count == 1) {
      Parallel.SEQUENTIAL.forEach(count, work);
      return;
    }
    task = work;
    tasks = count;
    failure = null;
    pending.set(size - 1);
    generation.incrementAndGet();
    for (Thread t : members) {
      LockSupport.unpark(t);
    }
    RuntimeException mine = null;
    try {
      runShare(0, work, count);
    } catch (RuntimeException e) {
      mine = e;
    }
    long spinUntil = System.nanoTime() + SPIN_NANOS;
    while (pending.get() != 0) {
      if (System.nanoTime() < spinUntil) {
        Thread.onSpinWait();
      } else {
        LockSupport.parkNanos(20_000);
      }
    }
    RuntimeException theirs = failure;
    if (mine != null) {
      throw mine;
    }
    if (theirs != null) {
      throw theirs;
    }
  }

  private void runShare(int member, IntConsumer work, int count) {
    for (int i = member; i < count; i += size) {
      work.accept(i);
    }
  }

  private void serve(int member) {
    long seen = 0;
    while (true) {
      long spinUntil = System.nanoTime() + SPIN_NANOS;
      while (generation.get() == seen && !closed) {
        if (System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        } else {
          LockSupport.parkNanos(1_000_000);
        }
      }
      if (closed) {
        return;
      }
      seen = generation.get();
      try {
        runShare(member, task, tasks);
      } catch (RuntimeException e) {
        failure = e;
      } catch (Error e) {
        failure = new IllegalStateException(e);
      }
      pending.decrementAndGet();
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread t : members) {
      LockSupport.unpark(t);
    }
  }
}
