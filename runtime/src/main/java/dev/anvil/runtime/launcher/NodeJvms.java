package dev.anvil.runtime.launcher;

import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.client.ClusterLoss;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node JVMs of a local cluster and what its launcher knows of them: each node's process and
 * ports, its incarnations, which exits the launcher caused, which processes it froze, whether it is
 * closing, and its client member (replaced when the whole cluster restarts).
 *
 * <p>One lock guards all of that, and every act of process control (start, SIGKILL, SIGSTOP,
 * SIGCONT, goodbye, start again, stop) decides and acts on a node's process inside it, so that two
 * acts on one node are ordered. A restart finds a node being killed either still running (it
 * refuses) or gone (it starts a new process); a kill's bookkeeping and a process's exit callback
 * touch a node only while it still runs the process they are about; once closing has begun, no node
 * starts. The lock is held for short steps (starting a JVM, running {@code kill -STOP}), never
 * while waiting for a process to exit or for the membership.
 */
final class NodeJvms {
  private static final Logger log = LoggerFactory.getLogger(NodeJvms.class);
  private static final Duration KILL_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration GOODBYE_TIMEOUT = Duration.ofSeconds(15);

  private final LocalClusterSettings settings;
  private final DatabaseSettings db;
  private final Object lock = new Object();
  private final List<Process> processes = new ArrayList<>();
  private final List<NodePorts> ports = new ArrayList<>();
  private final Incarnations incarnations = new Incarnations();

  /** Processes whose exit the launcher caused (kill, leave, restart, close). */
  private final Set<Process> expectedExits = identitySet();

  /** Processes frozen by {@link #pause} and neither thawed nor exited since. */
  private final Set<Process> frozen = identitySet();

  private boolean closing;
  private ActorSystem<Void> client;

  NodeJvms(LocalClusterSettings settings, DatabaseSettings db, ActorSystem<Void> client) {
    this.settings = settings;
    this.db = db;
    this.client = client;
  }

  private static Set<Process> identitySet() {
    return Collections.newSetFromMap(new IdentityHashMap<>());
  }

  /** Records a node process launched on {@code at}: its incarnation and its exit; its index. */
  int adopt(Process process, NodePorts at) {
    synchronized (lock) {
      int index = incarnations.add(at.address());
      processes.add(process);
      ports.add(at);
      process.onExit().thenRun(() -> exited(index, process));
      return index;
    }
  }

  /** Starts one more node JVM, joining through every other node; returns its index. */
  int addNode() {
    synchronized (lock) {
      requireOpen();
      if (processes.stream().noneMatch(Process::isAlive)) {
        throw new IllegalStateException("no live node to join through");
      }
      Set<Integer> taken = new HashSet<>();
      ports.forEach(p -> taken.addAll(List.of(p.cluster(), p.http())));
      NodePorts at = NodePorts.choose(taken);
      List<NodePorts> all = new ArrayList<>(ports);
      all.add(at);
      int index = all.size() - 1;
      return adopt(
          NodeProcesses.launch(settings, db, index, at, NodeProcesses.seeds(all, index, false)),
          at);
    }
  }

  /**
   * SIGKILL to node {@code index}'s JVM; waits until it is gone, then retires (and downs) its
   * incarnation, unless the node runs a newer process by then (a restart came in between).
   */
  void kill(int index) {
    Process p;
    synchronized (lock) {
      p = processes.get(index);
      expectedExits.add(p);
      frozen.remove(p);
      p.destroyForcibly();
    }
    awaitExit(index, p);
    synchronized (lock) {
      if (processes.get(index) == p) {
        retire(index); // at once, not when the exit callback gets round to it
      }
    }
  }

  /** SIGKILL to every node JVM at once; waits until each is gone and retires it. */
  void killAll() {
    List<Process> old;
    synchronized (lock) {
      old = List.copyOf(processes);
      expectedExits.addAll(old);
      old.forEach(frozen::remove);
      old.forEach(Process::destroyForcibly);
    }
    for (int i = 0; i < old.size(); i++) {
      awaitExit(i, old.get(i));
    }
    synchronized (lock) {
      for (int i = 0; i < old.size(); i++) {
        if (processes.get(i) == old.get(i)) {
          retire(i);
        }
      }
    }
  }

  private static void awaitExit(int index, Process p) {
    try {
      if (!p.waitFor(KILL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException(
            "node "
                + (index + 1)
                + " (pid "
                + p.pid()
                + ") still runs "
                + KILL_TIMEOUT.toSeconds()
                + " s after SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while killing node " + (index + 1), e);
    }
  }

  /** Closes node {@code index}'s standard input: its parent watch leaves, then the JVM exits. */
  void leave(int index) {
    synchronized (lock) {
      Process p = processes.get(index);
      expectedExits.add(p);
      try {
        p.getOutputStream().close();
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot signal node " + (index + 1) + ": " + e.getMessage(), e);
      }
    }
  }

  /** SIGSTOP to node {@code index}'s running JVM. */
  void pause(int index) {
    synchronized (lock) {
      Process p = running(index, "freeze");
      NodeProcesses.signal(p.pid(), "STOP");
      frozen.add(p);
    }
  }

  /** SIGCONT to node {@code index}'s running JVM. */
  void resume(int index) {
    synchronized (lock) {
      Process p = running(index, "thaw");
      NodeProcesses.signal(p.pid(), "CONT");
      frozen.remove(p);
    }
  }

  private Process running(int index, String act) {
    Process p = processes.get(index);
    if (!p.isAlive()) {
      throw new IllegalStateException(
          "cannot "
              + act
              + " node "
              + (index + 1)
              + ": its JVM (pid "
              + p.pid()
              + ") has exited (code "
              + p.exitValue()
              + ")");
    }
    return p;
  }

  /**
   * Starts nodes {@code indexes} again on their addresses, in that order, each joining through
   * every other node or, when none runs, forming the cluster again. Refuses (and starts none) while
   * one of them still runs.
   */
  void restart(List<Integer> indexes) {
    synchronized (lock) {
      requireOpen();
      for (int index : indexes) {
        if (processes.get(index).isAlive()) {
          throw new IllegalStateException("node " + (index + 1) + " is running; kill it first");
        }
      }
      for (int index : indexes) {
        expectedExits.add(processes.get(index));
        retire(index);
        boolean othersRun = false;
        for (int i = 0; i < processes.size(); i++) {
          othersRun |= i != index && processes.get(i).isAlive();
        }
        launch(index, !othersRun);
      }
    }
  }

  /**
   * After {@link #killAll} and the old client's end: starts every node that is not running again,
   * node 1 forming the cluster (the old client is not asked to down anything).
   */
  void startAllAgain() {
    synchronized (lock) {
      requireOpen();
      for (int i = 0; i < processes.size(); i++) {
        if (!processes.get(i).isAlive()) {
          incarnations.retire(i, List.of());
          launch(i, i == 0);
        }
      }
    }
  }

  /** Holds lock. */
  private void launch(int index, boolean forms) {
    Process p =
        NodeProcesses.launch(
            settings, db, index, ports.get(index), NodeProcesses.seeds(ports, index, forms));
    processes.set(index, p);
    incarnations.launched(index);
    p.onExit().thenRun(() -> exited(index, p));
  }

  private void requireOpen() {
    if (closing) {
      throw new IllegalStateException("the local cluster is closed: no node starts any more");
    }
  }

  /**
   * Node {@code index}'s {@code process} has exited: unless the node already runs a newer one, its
   * incarnation is retired and downed, and if no node process is left that the launcher did not
   * stop itself, the client is told that the cluster is lost.
   */
  private void exited(int index, Process process) {
    ActorSystem<Void> told;
    synchronized (lock) {
      frozen.remove(process);
      if (processes.get(index) != process) {
        return; // an older process of a node already started again
      }
      retire(index);
      boolean lost =
          !closing
              && processes.stream().noneMatch(Process::isAlive)
              && processes.stream().anyMatch(p -> !expectedExits.contains(p));
      told = lost ? client : null;
    }
    if (told != null) {
      ClusterLoss.get(told)
          .report(
              "every node JVM of the local cluster has exited"
                  + " (node "
                  + (index + 1)
                  + " last, exit code "
                  + process.exitValue()
                  + ")");
    }
  }

  /**
   * Retires node {@code index}'s incarnation (its process is gone) and downs it, unless the
   * settings leave that to the split-brain resolver. Holds lock.
   */
  private void retire(int index) {
    List<Incarnations.Seen> dead = incarnations.retire(index, MembershipView.members(client));
    if (!settings.downExitedNodes()) {
      return;
    }
    for (Incarnations.Seen gone : dead) {
      log.info(
          "node {} ({}#{}) is gone; downing that incarnation",
          index + 1,
          gone.hostPort(),
          gone.uid());
      MembershipView.down(client, ports.get(index));
    }
  }

  /** Marks the cluster closing (no node starts after); false if it already was. */
  boolean beginClose() {
    synchronized (lock) {
      if (closing) {
        return false;
      }
      closing = true;
      expectedExits.addAll(processes);
      return true;
    }
  }

  /**
   * Stops every node: thaws the frozen ones (a frozen node cannot hear a goodbye), closes each
   * node's standard input (its parent watch leaves the cluster), waits 15 s, then SIGKILL.
   */
  void stopAll() {
    List<Process> all;
    synchronized (lock) {
      all = List.copyOf(processes);
      for (Process p : List.copyOf(frozen)) {
        try {
          NodeProcesses.signal(p.pid(), "CONT");
        } catch (RuntimeException e) {
          log.debug("pid {} stays frozen and is killed below: {}", p.pid(), e.toString());
        }
      }
      frozen.clear();
      for (Process p : all) {
        try {
          p.getOutputStream().close();
        } catch (IOException e) {
          p.destroy();
        }
      }
    }
    for (Process p : all) {
      try {
        if (!p.waitFor(GOODBYE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }

  /** The client member: the launcher's view of the cluster. */
  ActorSystem<Void> client() {
    synchronized (lock) {
      return client;
    }
  }

  /**
   * Makes {@code next} the client after {@link #startAllAgain}; if the cluster began to close
   * meanwhile, terminates it instead and fails.
   */
  void replaceClient(ActorSystem<Void> next) {
    synchronized (lock) {
      if (!closing) {
        client = next;
        return;
      }
    }
    next.terminate();
    requireOpen();
  }

  Process process(int index) {
    synchronized (lock) {
      return processes.get(index);
    }
  }

  int size() {
    synchronized (lock) {
      return processes.size();
    }
  }

  List<NodePorts> ports() {
    synchronized (lock) {
      return List.copyOf(ports);
    }
  }

  List<Long> pids() {
    synchronized (lock) {
      return processes.stream().map(Process::pid).toList();
    }
  }

  boolean expectedExit(Process p) {
    synchronized (lock) {
      return expectedExits.contains(p);
    }
  }

  /** Node indexes whose process has exited. */
  List<Integer> exited() {
    synchronized (lock) {
      List<Integer> out = new ArrayList<>();
      for (int i = 0; i < processes.size(); i++) {
        if (!processes.get(i).isAlive()) {
          out.add(i);
        }
      }
      return out;
    }
  }

  /** The unique id of node {@code index}'s live incarnation, or -1 while it has none up. */
  long uid(int index) {
    synchronized (lock) {
      Incarnations.Seen m = incarnations.current(index, MembershipView.members(client));
      return m == null ? -1 : m.uid();
    }
  }

  /** Whether node {@code index}'s live incarnation is Up and reachable. */
  boolean up(int index) {
    synchronized (lock) {
      return incarnations.up(index, MembershipView.members(client));
    }
  }

  /** Nodes whose live incarnation is Up and reachable. */
  int nodesUp() {
    synchronized (lock) {
      return incarnations.countUp(MembershipView.members(client));
    }
  }

  /** Whether every reachable Up member has seen the client's newest view. */
  boolean converged() {
    return MembershipView.converged(client());
  }
}
