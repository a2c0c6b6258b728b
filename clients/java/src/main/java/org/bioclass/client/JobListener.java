package org.bioclass.client;

/** Receives a training job's updates from {@link BioclassClient#watchJob}, on the calling thread. */
public interface JobListener {
    void update(JobStatus update);
}
