// Interest filtering by topic (alternates.ts): the topics a process's subscribers
// follow, and for each, the other buckets followed for it because they name it as an
// alternate; a bucket followed for a topic is released with the topic's last follow.

interface TopicInterest {
  count: number;
  readonly buckets: Set<number>;
}

export class TopicFollows {
  private readonly topics = new Map<string, TopicInterest>();

  constructor(
    private readonly bucketCount: number,
    /** One more follow of bucket b. */
    private readonly retain: (b: number) => void,
    /** One follow of bucket b less. */
    private readonly release: (b: number) => void,
  ) {}

  /** One more follow of each topic, until the returned release. */
  add(topics: readonly string[]): () => void {
    const added = [...new Set(topics)].map((topic) => {
      const interest = this.topics.get(topic) ?? { count: 0, buckets: new Set<number>() };
      interest.count++;
      this.topics.set(topic, interest);
      return [topic, interest] as const;
    });
    return () => {
      for (const [topic, interest] of added) {
        if (--interest.count > 0) continue;
        this.topics.delete(topic);
        for (const b of interest.buckets) this.release(b);
      }
    };
  }

  /** The buckets of `named` now followed for `topic` that were not yet (none when it is not followed). */
  addBuckets(topic: string, named: readonly number[] | 'all'): number[] {
    const interest = this.topics.get(topic);
    if (interest === undefined) return [];
    const added: number[] = [];
    for (const b of named === 'all' ? Array.from({ length: this.bucketCount }, (_, i) => i) : named) {
      if (interest.buckets.has(b)) continue;
      interest.buckets.add(b);
      this.retain(b);
      added.push(b);
    }
    return added;
  }
}
