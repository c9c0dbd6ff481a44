// Errors in what --data names or holds: reported as usage errors, naming the flag.
export class DataError extends Error {
  constructor(message: string) {
    super(`--data: ${message}`);
    this.name = 'DataError';
  }
}
