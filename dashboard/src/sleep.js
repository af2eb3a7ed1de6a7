// The pause before a stream reconnects or a poll asks again.
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
