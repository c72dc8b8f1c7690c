export const createBaselineActivities = () => ({
  async noop(_command: unknown): Promise<void> {},
});

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
