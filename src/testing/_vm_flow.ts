export const vmFlowCases: readonly import("./_types.ts").Case[] = [];
