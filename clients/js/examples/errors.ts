import { PracticegenError, type PracticegenClient, type Student } from '@practicegen/client';

export async function findStudent(client: PracticegenClient, studentId: string): Promise<Student | null> {
  try {
    return await client.getStudent(studentId);
  } catch (error) {
    if (error instanceof PracticegenError && error.code === 'student_not_found') return null;
    throw error; // error.status, error.code, error.message, error.details
  }
}
